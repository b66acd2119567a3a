package io.jcircuit.host;

import io.jcircuit.CircuitException;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Jars by SHA-256 under one directory, {@code <sha256>.jar}. A missing jar is streamed from the
 * spawner's {@link JarSource} in chunks, verified against its hash, and only then moved into place,
 * so the cache never holds a partial or wrong jar. Concurrent spawns needing the same jar fetch it
 * once.
 *
 * <p>The cache is kept under a size limit by {@link #evict}, least recently used jars first. A jar's
 * use is the time of its marker file, {@code <sha256>.used}, not of the jar: a class archive checks
 * its jars' times, and touching a jar would make every archive that names it stale. A spawn marks the
 * jars it is about to start a JVM with, and the host marks those of its running workers every few
 * minutes ({@link #markUsed}), so that a jar used within the grace period is never taken, also by
 * another host that shares the directory. A jar pushed by {@code circuit deploy} ({@code
 * <sha256>.deployed}) is never taken while it is marked so: a later spawn of that deployment may find no
 * spawner that holds it. The mark goes when every deployment of the jar is removed ({@link #unmarkDeployed}).
 */
final class JarCache {

    private static final Logger LOG = LoggerFactory.getLogger(JarCache.class);
    private static final java.util.regex.Pattern SHA = java.util.regex.Pattern.compile("[0-9a-f]{64}");
    /** How often a spawn brings a marker this host already touched up to date: far below any grace period. */
    static final long MARK_EVERY_MILLIS = TimeUnit.MINUTES.toMillis(1);
    /** The name of the file whose lock one evicting host holds. */
    static final String EVICT_LOCK = ".evict.lock";
    /** The time of every fetched jar (2000-01-01), whenever it was fetched; its marker tells its use. */
    static final FileTime FETCHED_TIME = FileTime.fromMillis(946_684_800_000L);

    private final Path dir;
    private final long limitBytes;
    private final Duration grace;
    private final java.time.Clock clock;
    /** One per jar: a spawn's mark, check and fetch, and a pass's look and delete, hold it. */
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /**
     * When this host last touched each marker, by the wall clock, which the markers' times follow: a
     * machine that slept, or a clock set forward, makes them old however recently this host touched them.
     */
    private final ConcurrentHashMap<String, Long> marked = new ConcurrentHashMap<>();
    private final AtomicLong fetchedJars = new AtomicLong();
    private final AtomicLong fetchedBytes = new AtomicLong();
    private final AtomicLong evictedJars = new AtomicLong();
    private final AtomicLong evictedBytes = new AtomicLong();

    /**
     * @param limitBytes what {@link #evict} brings the cache down to; {@link Long#MAX_VALUE} for no limit
     * @param grace      a jar used more recently than this is kept, whatever the cache's size
     */
    JarCache(Path dir, long limitBytes, Duration grace) {
        this(dir, limitBytes, grace, java.time.Clock.systemUTC());
    }

    /** With the wall clock {@code clock}, which markers are dated by and compared with. */
    JarCache(Path dir, long limitBytes, Duration grace, java.time.Clock clock) {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("a jar cache's limit is at least 0 bytes, not " + limitBytes);
        }
        this.dir = dir;
        this.limitBytes = limitBytes;
        this.grace = Objects.requireNonNull(grace, "grace");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The cached jar of {@code ref}, fetched from {@code source} first when missing. Marks it used
     * first, so that {@link #evict} (of this host or another) leaves it for the grace period.
     */
    Path ensure(JarRef ref, JarSource source) {
        if (!SHA.matcher(ref.sha256()).matches()) {
            throw new IllegalArgumentException("bad jar hash '" + ref.sha256() + "' for " + ref.name());
        }
        Path jar = dir.resolve(ref.sha256() + ".jar");
        // under its lock, so that this host's eviction cannot take it between the mark and the check
        ReentrantLock lock = lock(ref.sha256());
        lock.lock();
        try {
            markUsed(ref.sha256(), false);
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
                    // the same time for every fetch of it: a class archive records its jars' times, and
                    // one fetched again after its eviction must match what the archive recorded
                    Files.setLastModifiedTime(tmp, FETCHED_TIME);
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
        } finally {
            lock.unlock();
        }
    }

    private ReentrantLock lock(String sha256) {
        return locks.computeIfAbsent(sha256, k -> new ReentrantLock());
    }

    /**
     * Marks the jar {@code sha256} used now (its marker's time); on a spawn's path ({@code always}
     * false), not when this host did so within {@link #MARK_EVERY_MILLIS}. A marker that cannot be
     * written is logged: the jar may then be taken once the grace period has passed, and fetched again
     * by the next spawn that needs it.
     */
    void markUsed(String sha256, boolean always) {
        long now = clock.millis();
        Long last = marked.get(sha256);
        if (!always && last != null && now - last >= 0 && now - last < MARK_EVERY_MILLIS) {
            return;
        }
        Path marker = dir.resolve(sha256 + ".used");
        try {
            Files.createDirectories(dir);
            try {
                Files.setLastModifiedTime(marker, FileTime.fromMillis(now));
            } catch (java.nio.file.NoSuchFileException absent) {
                Files.write(marker, new byte[0]);
                Files.setLastModifiedTime(marker, FileTime.fromMillis(now));
            }
            marked.put(sha256, now);
        } catch (IOException e) {
            LOG.warn("cannot mark the jar {} used in {}: {}", sha256, dir, e.toString());
        }
    }

    /**
     * The jar of {@code ref}, pushed by {@code circuit deploy}: marked deployed, so that {@link #evict}
     * never takes it, and fetched from {@code source} when missing. Returns whether it was fetched.
     */
    boolean offerDeployed(JarRef ref, JarSource source) {
        if (!SHA.matcher(ref.sha256()).matches()) {
            throw new IllegalArgumentException("bad jar hash '" + ref.sha256() + "' for " + ref.name());
        }
        // under its lock: a pass of another host that moved it aside looks for the mark before it deletes it
        ReentrantLock lock = lock(ref.sha256());
        lock.lock();
        try {
            markDeployed(ref.sha256());
            boolean had = Files.isRegularFile(dir.resolve(ref.sha256() + ".jar"));
            ensure(ref, source);
            return !had;
        } finally {
            lock.unlock();
        }
    }

    /** Marks the jar {@code sha256} as one {@code circuit deploy} pushed: {@link #evict} never takes it. */
    void markDeployed(String sha256) {
        if (!SHA.matcher(sha256).matches()) {
            throw new IllegalArgumentException("bad jar hash '" + sha256 + "'");
        }
        try {
            Files.createDirectories(dir);
            Path marker = dir.resolve(sha256 + ".deployed");
            if (!Files.exists(marker)) {
                Files.write(marker, new byte[0]);
            }
        } catch (IOException e) {
            LOG.warn("cannot mark the deployed jar {} in {}: it may be evicted: {}", sha256, dir, e.toString());
        }
    }

    /**
     * Takes back the mark {@link #markDeployed} set on jar {@code sha256} (every deployment of it was
     * removed): {@link #evict} treats it as any other jar from then on. Returns true when there was a mark.
     */
    boolean unmarkDeployed(String sha256) {
        if (!SHA.matcher(sha256).matches()) {
            throw new IllegalArgumentException("bad jar hash '" + sha256 + "'");
        }
        try {
            return Files.deleteIfExists(dir.resolve(sha256 + ".deployed"));
        } catch (IOException e) {
            LOG.warn("cannot take back the deployed mark of jar {} in {}: it stays: {}", sha256, dir, e.toString());
            return false;
        }
    }

    /** True when the cache holds jar {@code sha256}. */
    boolean holds(String sha256) {
        return SHA.matcher(sha256).matches() && Files.isRegularFile(dir.resolve(sha256 + ".jar"));
    }

    /** What one {@link #evict} found and did. */
    record Eviction(int jars, long bytes, long sizeBefore, long sizeAfter) {
    }

    /**
     * Deletes the least recently used jars while the cache holds more than its limit, sparing those in
     * {@code inUse}, those deployed, and those used within the grace period; the cache may stay above
     * its limit when all that is left is spared. Leftovers of fetches that died with their host
     * ({@code fetch-*.part}) and markers of jars no longer here go too, once older than the grace period.
     * One host evicts at a time (a file lock in the directory); the others skip their turn. A jar whose
     * lock a spawn or a deploy of this host holds (a fetch under way) is passed over. Returns what it did,
     * or null when it did not run (no limit, no directory, another pass of this JVM or another process
     * under way, or an I/O error, which is logged).
     */
    Eviction evict(java.util.Set<String> inUse) {
        if (limitBytes == Long.MAX_VALUE || !Files.isDirectory(dir)) {
            return null;
        }
        Path same;
        try {
            same = dir.toRealPath(); // the JDK knows a file lock by its file, however the path is spelled
        } catch (IOException e) {
            LOG.warn("cannot evict jars from {}: {}", dir, e.toString());
            return null;
        }
        ReentrantLock inThisJvm = IN_THIS_JVM.computeIfAbsent(same, d -> new ReentrantLock());
        if (!inThisJvm.tryLock()) {
            return null; // another pass of this JVM on the same directory is under way
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve(EVICT_LOCK),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock held = ch.tryLock()) {
            if (held == null) {
                return null; // another process evicts
            }
            return evictLocked(inUse);
        } catch (IOException e) {
            LOG.warn("cannot evict jars from {}: {}", dir, e.toString());
            return null;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            LOG.warn("cannot evict jars from {}: something else in this JVM locks {}", dir, EVICT_LOCK);
            return null;
        } finally {
            inThisJvm.unlock();
        }
    }

    /**
     * One evicting pass per directory in this JVM. A file lock belongs to the process: a second channel
     * on the lock file, closed after it found the lock taken, would release the lock of the pass under
     * way. So this one table is shared by every cache of the JVM, as the JDK's own table of file locks is.
     */
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_THIS_JVM = new ConcurrentHashMap<>();

    private record Cached(String sha256, Path jar, long size, long usedMillis) {
    }

    private Eviction evictLocked(java.util.Set<String> inUse) throws IOException {
        long now = clock.millis();
        long graceMillis = grace.toMillis();
        List<Cached> cached = new ArrayList<>();
        List<Path> others = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.endsWith(".jar") && SHA.matcher(name.substring(0, name.length() - 4)).matches()) {
                    String sha = name.substring(0, name.length() - 4);
                    long size = sizeOf(f);
                    if (size >= 0 && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        cached.add(new Cached(sha, f, size, usedMillis(sha, f)));
                    } // what else bears a jar's name was not put there by a host: left alone, and not counted
                } else {
                    others.add(f);
                }
            }
        }
        long before = cached.stream().mapToLong(Cached::size).sum();
        long total = before;
        int jars = 0;
        long bytes = 0;
        cached.sort(java.util.Comparator.comparingLong(Cached::usedMillis));
        for (Cached c : cached) {
            if (total <= limitBytes) {
                break;
            }
            if (inUse.contains(c.sha256())) {
                continue;
            }
            try {
                if (!evictOne(c, now, graceMillis)) {
                    continue;
                }
            } catch (IOException e) {
                LOG.warn("cannot evict the jar {} from {}: {}", c.sha256(), dir, e.toString());
                continue; // the others may still go
            }
            total -= c.size();
            jars++;
            bytes += c.size();
            evictedJars.incrementAndGet();
            evictedBytes.addAndGet(c.size());
            LOG.info("evicted the jar {} ({} bytes) from {}: unused since {}", c.sha256(), c.size(), dir,
                java.time.Instant.ofEpochMilli(c.usedMillis()));
        }
        java.util.Set<String> present = new java.util.HashSet<>();
        cached.forEach(c -> present.add(c.sha256()));
        for (Path f : others) {
            try {
                clearLeftover(f, present, now, graceMillis);
            } catch (IOException e) {
                LOG.warn("cannot clear {} from the jar cache: {}", f, e.toString());
            }
        }
        return new Eviction(jars, bytes, before, total);
    }

    /**
     * Deletes the jar of {@code c} unless it is deployed or was used within the grace period; returns
     * whether it did. Under the jar's lock, so that a spawn of this host marks it either before (and it
     * stays) or after (and finds it gone, and fetches it again); when a spawn or a deploy holds it, the
     * jar is passed over rather than waited for.
     */
    private boolean evictOne(Cached c, long now, long graceMillis) throws IOException {
        ReentrantLock lock = lock(c.sha256());
        if (!lock.tryLock()) {
            return false;
        }
        try {
            if (spared(c.sha256(), c.jar(), now, graceMillis)) {
                return false; // used meanwhile, within the grace period, or deployed
            }
            // Moved aside before the last look at its marks: a host that shares the directory and marked
            // it after that look finds no jar, and fetches it again, rather than starting a JVM on a jar
            // about to go.
            Path aside = dir.resolve(c.sha256() + ".evicting");
            try {
                Files.move(c.jar(), aside, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.NoSuchFileException gone) {
                return false;
            }
            if (spared(c.sha256(), aside, now, graceMillis)) {
                Files.move(aside, c.jar(), StandardCopyOption.ATOMIC_MOVE);
                return false;
            }
            Files.delete(aside);
            marked.remove(c.sha256());
            try {
                Files.deleteIfExists(dir.resolve(c.sha256() + ".used"));
            } catch (IOException e) {
                LOG.debug("cannot delete the marker of the evicted jar {}: {}", c.sha256(), e.toString());
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean spared(String sha256, Path jar, long now, long graceMillis) {
        return Files.exists(dir.resolve(sha256 + ".deployed")) || now - usedMillis(sha256, jar) < graceMillis;
    }

    /**
     * Clears {@code f} when it is a leftover: a fetch that died with its host ({@code fetch-*.part}) or a
     * marker of a jar no longer here, once older than the grace period; a jar a pass moved aside and
     * neither deleted nor moved back (its host died, or the move back failed) goes back when it has been
     * marked or deployed since, and goes otherwise. No other pass runs meanwhile (the lock).
     */
    private void clearLeftover(Path f, java.util.Set<String> present, long now, long graceMillis) throws IOException {
        String name = f.getFileName().toString();
        if (name.endsWith(".evicting") && SHA.matcher(name.substring(0, name.length() - 9)).matches()) {
            String sha = name.substring(0, name.length() - 9);
            ReentrantLock lock = lock(sha);
            if (!lock.tryLock()) {
                return; // a spawn fetches it meanwhile: the next pass sees to this one
            }
            try {
                Path jar = dir.resolve(sha + ".jar");
                if (!Files.exists(jar) && spared(sha, f, now, graceMillis)) {
                    Files.move(f, jar, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    Files.deleteIfExists(f);
                }
            } finally {
                lock.unlock();
            }
            return;
        }
        boolean leftover = name.startsWith("fetch-") && name.endsWith(".part")
            || name.endsWith(".used") && SHA.matcher(name.substring(0, name.length() - 5)).matches()
                && !present.contains(name.substring(0, name.length() - 5));
        if (leftover && now - modifiedMillis(f) >= graceMillis) {
            Files.deleteIfExists(f);
        }
    }

    /** When the jar {@code sha256} was last used: its marker's time, or the jar's own when it has no marker. */
    private long usedMillis(String sha256, Path jar) {
        long m = modifiedMillis(dir.resolve(sha256 + ".used"));
        return m >= 0 ? m : Math.max(0, modifiedMillis(jar));
    }

    private static long modifiedMillis(Path f) {
        try {
            return Files.getLastModifiedTime(f).toMillis();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long sizeOf(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return -1; // gone meanwhile
        }
    }

    long evictedJars() {
        return evictedJars.get();
    }

    long evictedBytes() {
        return evictedBytes.get();
    }

    long fetchedJars() {
        return fetchedJars.get();
    }

    long fetchedBytes() {
        return fetchedBytes.get();
    }
}
