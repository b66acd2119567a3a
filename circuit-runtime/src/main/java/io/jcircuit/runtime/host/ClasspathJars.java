package io.jcircuit.runtime.host;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * This JVM's classpath as content-addressed jars, and the {@link JarSource} that serves them. A
 * directory on the classpath (a build's {@code classes}) is packed into a jar with sorted entries and
 * fixed times, so the same content always has the same hash. Hashes are kept per file, size and
 * modification time, so a second spawn hashes nothing.
 */
public final class ClasspathJars implements JarSource {

    private static final FileTime EPOCH = FileTime.fromMillis(315_532_800_000L); // 1980-01-01, the zip epoch

    private record Stamp(long size, long modified) {
    }

    private record Known(Stamp stamp, JarRef ref, Path jar) {
    }

    private final Path packDir;
    private final Map<Path, Known> known = new ConcurrentHashMap<>();
    private final Map<String, Path> byHash = new ConcurrentHashMap<>();

    /** @param packDir where packed directories go */
    public ClasspathJars(Path packDir) {
        this.packDir = packDir;
    }

    /** The jars of {@code classpath} (a {@link File#pathSeparator}-separated list), in order. */
    public List<JarRef> of(String classpath) {
        List<JarRef> refs = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry).toAbsolutePath().normalize();
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(p, BasicFileAttributes.class); // one stat: this runs on every spawn
            } catch (IOException missing) {
                continue; // as the JVM does with a classpath entry that is not there
            }
            if (attrs.isRegularFile() || attrs.isDirectory()) {
                refs.add(refOf(p, attrs));
            }
        }
        return refs;
    }

    private JarRef refOf(Path p, BasicFileAttributes attrs) {
        boolean dir = attrs.isDirectory();
        try {
            Stamp stamp = dir ? treeStamp(p) : new Stamp(attrs.size(), attrs.lastModifiedTime().toMillis());
            Known k = known.get(p);
            if (k != null && k.stamp.equals(stamp)) {
                return k.ref;
            }
            synchronized (this) { // spawns at once would each hash the whole classpath; the later ones wait for the first
                k = known.get(p);
                if (k != null && k.stamp.equals(stamp)) {
                    return k.ref;
                }
                return hash(p, dir, stamp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath entry " + p, e);
        }
    }

    private JarRef hash(Path p, boolean dir, Stamp stamp) throws IOException {
        Path jar = dir ? pack(p) : p;
        String sha = sha256(jar);
        String name = dir ? p.getFileName() + ".jar" : p.getFileName().toString();
        JarRef ref = new JarRef(sha, Files.size(jar), name);
        byHash.put(sha, jar); // before known: whoever finds the reference can read its jar
        known.put(p, new Known(stamp, ref, jar));
        return ref;
    }

    @Override
    public byte[] read(String sha256, long offset, int length) {
        Path jar = byHash.get(sha256);
        if (jar == null) {
            throw new IllegalArgumentException("no jar " + sha256 + " here");
        }
        int n = Math.min(Math.min(length, CHUNK), (int) Math.max(0, sizeOf(jar) - offset));
        ByteBuffer buf = ByteBuffer.allocate(n);
        try (FileChannel ch = FileChannel.open(jar, StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
                // read on
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jar, e);
        }
        return buf.array();
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Size and newest modification time of every file below {@code dir}, one stat per file. */
    private static Stamp treeStamp(Path dir) throws IOException {
        long[] sizeAndNewest = new long[2];
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    sizeAndNewest[0] += attrs.size();
                    sizeAndNewest[1] = Math.max(sizeAndNewest[1], attrs.lastModifiedTime().toMillis());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new Stamp(sizeAndNewest[0], sizeAndNewest[1]);
    }

    private Path pack(Path dir) throws IOException {
        Files.createDirectories(packDir);
        Path tmp = Files.createTempFile(packDir, "pack-", ".jar");
        List<Path> files;
        try (Stream<Path> all = Files.walk(dir)) {
            files = all.filter(Files::isRegularFile).sorted().toList();
        }
        try (OutputStream out = Files.newOutputStream(tmp); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Path f : files) {
                ZipEntry e = new ZipEntry(dir.relativize(f).toString().replace(File.separatorChar, '/'));
                e.setLastModifiedTime(EPOCH);
                zip.putNextEntry(e);
                try (InputStream in = Files.newInputStream(f)) {
                    in.transferTo(zip);
                }
                zip.closeEntry();
            }
        }
        Path named = packDir.resolve(sha256(tmp) + ".jar");
        if (Files.exists(named)) {
            Files.delete(tmp); // the same content, packed before (perhaps at this very moment by another spawn)
        } else {
            try {
                Files.move(tmp, named, StandardCopyOption.ATOMIC_MOVE); // never a moment without the file
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                Files.deleteIfExists(tmp);
            }
        }
        return named;
    }

    /** The SHA-256 of a file, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
