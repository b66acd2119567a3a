package io.jcircuit.host;

import io.jcircuit.CircuitException;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Jars by SHA-256 under one directory, {@code <sha256>.jar}. A missing jar is streamed from the
 * spawner's {@link JarSource} in chunks, verified against its hash, and only then moved into place,
 * so the cache never holds a partial or wrong jar. Concurrent spawns needing the same jar fetch it
 * once.
 */
final class JarCache {

    private final Path dir;
    private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();
    private final AtomicLong fetchedJars = new AtomicLong();
    private final AtomicLong fetchedBytes = new AtomicLong();

    JarCache(Path dir) {
        this.dir = dir;
    }

    /** Whether the jar {@code sha256} is in the cache. */
    boolean has(String sha256) {
        return sha256.matches("[0-9a-f]{64}") && Files.isRegularFile(dir.resolve(sha256 + ".jar"));
    }

    /** The cached jar of {@code ref}, fetched from {@code source} first when missing. */
    Path ensure(JarRef ref, JarSource source) {
        if (!ref.sha256().matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("bad jar hash '" + ref.sha256() + "' for " + ref.name());
        }
        Path jar = dir.resolve(ref.sha256() + ".jar");
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        synchronized (locks.computeIfAbsent(ref.sha256(), k -> new Object())) {
            if (Files.isRegularFile(jar)) {
                return jar;
            }
            try {
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, "fetch-", ".part");
                try {
                    MessageDigest md = ClasspathJars.digest();
                    long offset = 0;
                    try (OutputStream out = Files.newOutputStream(tmp)) {
                        while (offset < ref.size()) {
                            byte[] chunk = source.read(ref.sha256(), offset, JarSource.CHUNK);
                            if (chunk.length == 0) {
                                throw new CircuitException("the spawner's " + ref.name() + " ended at " + offset
                                    + " of " + ref.size() + " bytes");
                            }
                            md.update(chunk);
                            out.write(chunk);
                            offset += chunk.length;
                        }
                    }
                    String got = HexFormat.of().formatHex(md.digest());
                    if (!got.equals(ref.sha256())) {
                        throw new CircuitException("the spawner's " + ref.name() + " has SHA-256 " + got
                            + ", not the announced " + ref.sha256() + "; refusing it");
                    }
                    Files.move(tmp, jar, StandardCopyOption.ATOMIC_MOVE);
                    fetchedJars.incrementAndGet();
                    fetchedBytes.addAndGet(offset);
                    return jar;
                } finally {
                    Files.deleteIfExists(tmp);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot store " + ref.name() + " in the jar cache " + dir + ": " + e, e);
            }
        }
    }

    long fetchedJars() {
        return fetchedJars.get();
    }

    long fetchedBytes() {
        return fetchedBytes.get();
    }
}
