package io.jcircuit.runtime.host;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * This JVM's classpath as content-addressed jars, and the {@link JarSource} that serves them. A
 * directory on the classpath (a build's {@code classes}) is packed into a jar with sorted entries and
 * fixed times, so the same content always has the same hash. Hashes are kept per file, size and
 * modification time, so a second spawn hashes nothing.
 *
 * <p><b>The pack directory is a trust boundary.</b> Whatever jar this class lists is shipped to the
 * hosts and run there with the cluster key, and a host can only check that the bytes it fetched have
 * the hash the spawner named; it cannot tell whose code they are. So a pack is always the file this
 * instance wrote and hashed itself: a file already there under the same name is replaced, never
 * taken as it is (taking it saved nothing anyway, since the name is known only once the directory has
 * been packed and hashed). And the directory must be one that only this user can write: created
 * {@code rwx------}; an existing one must be owned by this user and not writable by group or others,
 * or packing fails with an {@link IllegalStateException} that names it and says what to do.
 *
 * <p>Where packs live, {@link #defaultPackDir()}: in this user's cache directory, not in a fixed
 * directory of {@code /tmp}. A fixed name in a directory that every user can write is taken by whoever
 * makes it first: another user could fill it with jars of their own, or make it theirs so that every
 * pack fails. A per-user name there would still be open to the second, a denial of service, and
 * {@code systemd-tmpfiles} ages files out of {@code /tmp} under a long-running spawner. The cache
 * directory is the user's own, as the state directory that holds a host's jar cache is. Packs there
 * outlive the process, so the ones that no spawner made for {@link #PACKS_KEPT} are removed whenever
 * a directory is packed, and a spawner packs a directory again before its pack gets half that old.
 */
public final class ClasspathJars implements JarSource {

    /** A pack that no spawner of this user made for this long is removed at the next pack. */
    public static final Duration PACKS_KEPT = Duration.ofDays(7);

    private static final FileTime EPOCH = FileTime.fromMillis(315_532_800_000L); // 1980-01-01, the zip epoch
    private static final Set<PosixFilePermission> OWNER_ALL = PosixFilePermissions.fromString("rwx------");

    private record Stamp(long size, long modified) {
    }

    private record Known(Stamp stamp, JarRef ref, Path jar) {
    }

    /** A directory packed: the jar this instance wrote, and the hash and size of what it wrote. */
    private record Packed(Path jar, String sha256, long size) {
    }

    private final Path packDir;
    private final Map<Path, Known> known = new ConcurrentHashMap<>();
    private final Map<String, Path> byHash = new ConcurrentHashMap<>();

    /**
     * @param packDir where packed directories go: created {@code rwx------} at the first pack if missing;
     *                an existing one must belong to this user and be writable by nobody else
     */
    public ClasspathJars(Path packDir) {
        this.packDir = packDir;
    }

    /**
     * Where a spawner packs its classes directories: {@code $XDG_CACHE_HOME/jcircuit/packs}, or
     * {@code ~/.cache/jcircuit/packs} when that variable is not set to an absolute path. Private to this
     * user; see the class comment for why it is not in {@code java.io.tmpdir}.
     */
    public static Path defaultPackDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
            ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("jcircuit").resolve("packs");
    }

    /**
     * The jars of {@code classpath} (a {@link File#pathSeparator}-separated list), in order.
     *
     * @throws IllegalStateException when a classes directory is to be packed and the pack directory is
     *                               not this user's alone; the message names it and says what to do
     */
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
            if (k != null && k.stamp.equals(stamp) && (!dir || fresh(k.jar))) {
                return k.ref;
            }
            synchronized (this) { // spawns at once would each hash the whole classpath; the later ones wait for the first
                k = known.get(p);
                if (k != null && k.stamp.equals(stamp) && (!dir || fresh(k.jar))) {
                    return k.ref;
                }
                return hash(p, dir, stamp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath entry " + p, e);
        }
    }

    private JarRef hash(Path p, boolean dir, Stamp stamp) throws IOException {
        JarRef ref;
        Path jar;
        if (dir) {
            Packed packed = pack(p);
            jar = packed.jar();
            ref = new JarRef(packed.sha256(), packed.size(), p.getFileName() + ".jar");
        } else {
            jar = p;
            ref = new JarRef(sha256(p), Files.size(p), p.getFileName().toString());
        }
        byHash.put(ref.sha256(), jar); // before known: whoever finds the reference can read its jar
        known.put(p, new Known(stamp, ref, jar));
        return ref;
    }

    /**
     * Whether a pack is still there and young enough that no other spawner of this user removes it
     * before the hosts have fetched it ({@link #PACKS_KEPT}); one stat. Otherwise its directory is
     * packed again.
     */
    private static boolean fresh(Path pack) {
        try {
            Instant made = Files.getLastModifiedTime(pack).toInstant();
            return made.isAfter(Instant.now().minus(PACKS_KEPT.dividedBy(2)));
        } catch (IOException gone) {
            return false;
        }
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

    private Packed pack(Path dir) throws IOException {
        Path tmp = privateTempFile();
        try {
            Packed packed = packInto(dir, tmp);
            evictOld(packed.jar());
            return packed;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp); // gone already when it was moved into place
            throw e;
        }
    }

    /** Writes {@code dir} packed into {@code tmp}, hashes what it wrote, and names it by that hash. */
    private Packed packInto(Path dir, Path tmp) throws IOException {
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
        String sha = sha256(tmp);
        long size = Files.size(tmp);
        Path named = packDir.resolve(sha + ".jar");
        try {
            // Replaced, never taken as it is: a file already of that name was not hashed by this instance.
            // The same content packed by another spawner of this user is replaced by the same bytes, and in
            // one step, so a host fetching it meanwhile reads one file or the other, both of this content.
            Files.move(tmp, named, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileSystemException inUse) {
            return new Packed(tmp, sha, size); // Windows: another process has the name open; serve ours under its own
        }
        return new Packed(named, sha, size);
    }

    /**
     * A new empty file in the pack directory, which it makes {@code rwx------} if missing. Refuses a
     * directory that someone else could write into: another user's, or one open to group or others.
     */
    private Path privateTempFile() throws IOException {
        boolean posix = packDir.getFileSystem().supportedFileAttributeViews().contains("posix");
        try {
            Files.createDirectories(packDir.toAbsolutePath().getParent());
            if (posix) {
                Files.createDirectory(packDir, PosixFilePermissions.asFileAttribute(OWNER_ALL));
            } else {
                Files.createDirectory(packDir);
            }
        } catch (FileAlreadyExistsException exists) {
            // made before, by this user or not: checked below
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the directory " + packDir + " where classes directories are "
                + "packed for spawns: " + e + "; set XDG_CACHE_HOME to a directory of this user's", e);
        }
        if (!posix) {
            return Files.createTempFile(packDir, "pack-", ".jar"); // no POSIX owner or mode to check (Windows)
        }
        PosixFileAttributes attrs = Files.readAttributes(packDir, PosixFileAttributes.class); // of the target of a link
        if (!attrs.isDirectory()) {
            throw new IllegalStateException(packDir + ", where classes directories are packed for spawns, is not a "
                + "directory; remove it, or set XDG_CACHE_HOME to a directory of this user's");
        }
        Set<PosixFilePermission> mode = attrs.permissions();
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw notPrivate("has mode " + PosixFilePermissions.toString(mode) + ": others can write into it");
        }
        Path tmp;
        try {
            tmp = Files.createTempFile(packDir, "pack-", ".jar"); // rw-------: ours
        } catch (java.nio.file.AccessDeniedException e) {
            throw notPrivate("belongs to " + attrs.owner().getName() + ", and this user cannot write into it");
        }
        UserPrincipal me = Files.getOwner(tmp);
        if (!me.equals(attrs.owner())) {
            Files.deleteIfExists(tmp);
            throw notPrivate("belongs to " + attrs.owner().getName() + ", not to " + me.getName());
        }
        return tmp;
    }

    private IllegalStateException notPrivate(String problem) {
        return new IllegalStateException("the directory " + packDir + " where classes directories are packed for "
            + "spawns " + problem + ". Whoever can write there can put code of their own into what spawns ship to "
            + "every host, so nothing is packed. If it is this user's, 'chmod 700 " + packDir + "'; if not, remove it "
            + "(as its owner or root), or set XDG_CACHE_HOME to a directory of this user's");
    }

    /**
     * Removes the packs, and the temporary files of packs cut short, that nobody made for
     * {@link #PACKS_KEPT}, except those this instance serves. Best effort: a file that goes meanwhile or
     * cannot be removed is left to the next pack.
     */
    private void evictOld(Path justMade) {
        Instant before = Instant.now().minus(PACKS_KEPT);
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(packDir, "*.jar")) {
            for (Path f : jars) {
                try {
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile() && a.lastModifiedTime().toInstant().isBefore(before)
                        && !f.equals(justMade) && !byHash.containsValue(f)) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException e) {
                    // gone meanwhile, or not ours to remove
                }
            }
        } catch (IOException e) {
            // nothing to list: nothing to remove
        }
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
