package io.jcircuit.host;

import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class JarCacheTest {

    private static final Duration GRACE = Duration.ofHours(1);
    private static final long HOURS_AGO_2 = System.currentTimeMillis() - Duration.ofHours(2).toMillis();

    @TempDir
    Path dir;

    /** A spawner's jars in memory, counting the chunks read. */
    private static final class Source implements JarSource {
        final Map<String, byte[]> jars = new HashMap<>();
        final AtomicInteger reads = new AtomicInteger();

        JarRef add(String name, int size) {
            byte[] bytes = new byte[size];
            Arrays.fill(bytes, (byte) name.hashCode());
            bytes[0] = (byte) jars.size();
            String sha = HexFormat.of().formatHex(ClasspathJars.digest().digest(bytes));
            jars.put(sha, bytes);
            return new JarRef(sha, size, name + ".jar");
        }

        @Override
        public byte[] read(String sha256, long offset, int length) {
            reads.incrementAndGet();
            byte[] b = jars.get(sha256);
            return Arrays.copyOfRange(b, (int) offset, (int) Math.min(b.length, offset + length));
        }
    }

    private void usedAt(JarRef ref, long millis) throws Exception {
        Files.setLastModifiedTime(dir.resolve(ref.sha256() + ".used"), FileTime.fromMillis(millis));
    }

    /** Jars of {@code size} bytes each, fetched into {@code cache} from a source of their own. */
    private static List<JarRef> fetched(JarCache cache, int size, String... names) {
        Source src = new Source();
        List<JarRef> refs = Arrays.stream(names).map(n -> src.add(n, size)).toList();
        refs.forEach(r -> cache.ensure(r, src));
        return refs;
    }

    private boolean cached(JarRef ref) {
        return Files.isRegularFile(dir.resolve(ref.sha256() + ".jar"));
    }

    @Test
    void theLeastRecentlyUsedJarsGoUntilTheCacheFitsItsLimit() throws Exception {
        JarCache cache = new JarCache(dir, 2_500, GRACE);
        List<JarRef> refs = fetched(cache, 1_000, "a", "b", "c", "d");
        JarRef a = refs.get(0);
        JarRef b = refs.get(1);
        JarRef c = refs.get(2);
        JarRef d = refs.get(3);
        usedAt(a, HOURS_AGO_2 + 3);
        usedAt(b, HOURS_AGO_2 + 1); // the least recently used
        usedAt(c, HOURS_AGO_2 + 2);
        // d: used now, within the grace period

        JarCache.Eviction e = cache.evict(Set.of());

        assertThat(e).isEqualTo(new JarCache.Eviction(2, 2_000, 4_000, 2_000));
        assertThat(cached(b)).isFalse();
        assertThat(cached(c)).isFalse();
        assertThat(cached(a)).isTrue();
        assertThat(cached(d)).isTrue();
        assertThat(dir.resolve(b.sha256() + ".used")).doesNotExist();
        assertThat(cache.evictedJars()).isEqualTo(2);
        assertThat(cache.evictedBytes()).isEqualTo(2_000);
    }

    @Test
    void jarsInUseDeployedOrUsedWithinTheGracePeriodAreKeptAboveTheLimit() throws Exception {
        JarCache cache = new JarCache(dir, 0, GRACE);
        List<JarRef> refs = fetched(cache, 100, "running", "deployed", "recent", "old");
        JarRef running = refs.get(0);
        JarRef deployed = refs.get(1);
        JarRef recent = refs.get(2);
        JarRef old = refs.get(3);
        cache.markDeployed(deployed.sha256());
        usedAt(running, HOURS_AGO_2);
        usedAt(deployed, HOURS_AGO_2);
        usedAt(recent, System.currentTimeMillis() - Duration.ofMinutes(59).toMillis());
        usedAt(old, HOURS_AGO_2);

        JarCache.Eviction e = cache.evict(Set.of(running.sha256()));

        assertThat(e).isEqualTo(new JarCache.Eviction(1, 100, 400, 300));
        assertThat(cached(old)).isFalse();
        assertThat(cached(running)).isTrue();
        assertThat(cached(deployed)).isTrue();
        assertThat(cached(recent)).isTrue();
    }

    @Test
    void anEvictedJarIsFetchedAgainByTheNextSpawnThatNeedsIt() throws Exception {
        JarCache cache = new JarCache(dir, 0, GRACE);
        Source src = new Source();
        JarRef a = src.add("a", 3 * JarSource.CHUNK / 2);
        cache.ensure(a, src);
        usedAt(a, HOURS_AGO_2);
        assertThat(cache.evict(Set.of()).jars()).isEqualTo(1);
        int readsBefore = src.reads.get();

        Path jar = cache.ensure(a, src);

        assertThat(src.reads.get() - readsBefore).isEqualTo(2);
        assertThat(jar).hasBinaryContent(src.jars.get(a.sha256()));
        assertThat(cache.fetchedJars()).isEqualTo(2);
        // marked again: within the grace period now
        assertThat(cache.evict(Set.of()).jars()).isZero();
        assertThat(cached(a)).isTrue();
    }

    @Test
    void aJarWithoutAMarkerCountsAsUsedWhenItWasFetched() throws Exception {
        // caches written by builds before markers
        Source src = new Source();
        JarRef a = src.add("a", 100);
        JarRef b = src.add("b", 100);
        Files.createDirectories(dir);
        Files.write(dir.resolve(a.sha256() + ".jar"), src.jars.get(a.sha256()));
        Files.write(dir.resolve(b.sha256() + ".jar"), src.jars.get(b.sha256()));
        Files.setLastModifiedTime(dir.resolve(a.sha256() + ".jar"), FileTime.fromMillis(HOURS_AGO_2));

        JarCache.Eviction e = new JarCache(dir, 0, GRACE).evict(Set.of());

        assertThat(e.jars()).isEqualTo(1);
        assertThat(cached(a)).isFalse();
        assertThat(cached(b)).isTrue();
    }

    @Test
    void leftoversOlderThanTheGracePeriodGoToo() throws Exception {
        Files.createDirectories(dir);
        Path part = Files.write(dir.resolve("fetch-123.part"), new byte[10]);
        Path orphan = Files.write(dir.resolve("a".repeat(64) + ".used"), new byte[0]);
        Path aside = Files.write(dir.resolve("b".repeat(64) + ".evicting"), new byte[10]);
        Path fresh = Files.write(dir.resolve("fetch-456.part"), new byte[10]);
        for (Path p : new Path[] {part, orphan, aside}) {
            Files.setLastModifiedTime(p, FileTime.fromMillis(HOURS_AGO_2));
        }

        new JarCache(dir, 0, GRACE).evict(Set.of());

        assertThat(part).doesNotExist();
        assertThat(orphan).doesNotExist();
        assertThat(aside).doesNotExist();
        assertThat(fresh).exists(); // a fetch under way
    }

    @Test
    void oneCacheEvictsAtATimeAndACacheWithoutALimitNever() throws Exception {
        Source src = new Source();
        JarRef a = src.add("a", 100);
        JarCache cache = new JarCache(dir, 0, GRACE);
        cache.ensure(a, src);
        usedAt(a, HOURS_AGO_2);
        assertThat(new JarCache(dir, Long.MAX_VALUE, GRACE).evict(Set.of())).isNull();
        // another host's pass: a process holding the lock until its stdin closes
        Path holder = Files.writeString(dir.resolve("Holder.java"), """
            import java.nio.channels.*; import java.nio.file.*;
            public class Holder { public static void main(String[] a) throws Exception {
              try (FileChannel c = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                   FileLock l = c.lock()) { System.out.println("held"); System.in.read(); } } }
            """);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            holder.toString(), dir.resolve(JarCache.EVICT_LOCK).toString()).redirectErrorStream(true).start();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("held");
            assertThat(cache.evict(Set.of())).isNull();
            p.getOutputStream().close();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(cached(a)).isTrue();
        assertThat(cache.evict(Set.of()).jars()).isEqualTo(1);
    }

    @Test
    void aJarWithinItsLimitIsLeftAlone() throws Exception {
        Source src = new Source();
        JarRef a = src.add("a", 100);
        JarCache cache = new JarCache(dir, 100, GRACE);
        cache.ensure(a, src);
        usedAt(a, HOURS_AGO_2);
        assertThat(cache.evict(Set.of())).isEqualTo(new JarCache.Eviction(0, 0, 100, 100));
        assertThat(cached(a)).isTrue();
    }

    /** The per-jar lock that {@code ensure} and {@code evict} take. */
    private static ReentrantLock lockOf(JarCache cache, String sha) throws Exception {
        var f = JarCache.class.getDeclaredField("locks");
        f.setAccessible(true);
        @SuppressWarnings("unchecked")
        var locks = (java.util.concurrent.ConcurrentHashMap<String, ReentrantLock>) f.get(cache);
        return locks.computeIfAbsent(sha, k -> new ReentrantLock());
    }

    /**
     * The wall clock set forward by {@link #step}, which holds a pass at its start (a pass reads the time
     * once, holding its locks) when asked on a thread named {@value #HELD}, until {@link #release}.
     */
    private static final class TestClock extends java.time.Clock {
        static final String HELD = "held-pass";
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicLong step = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            if (Thread.currentThread().getName().equals(HELD)) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return java.time.Instant.now().plusMillis(step.get());
        }

        /** Starts a pass of {@code cache} and returns once it holds its locks and waits here. */
        CompletableFuture<JarCache.Eviction> holdPass(JarCache cache) throws InterruptedException {
            CompletableFuture<JarCache.Eviction> pass = CompletableFuture.supplyAsync(() -> cache.evict(Set.of()),
                r -> Thread.ofPlatform().name(HELD).start(r));
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            return pass;
        }
    }

    /**
     * A jar whose lock a spawn or a deploy of this host holds (a fetch under way) is passed over; a
     * deploy of a jar a pass took fetches it again, and no pass takes it after that.
     */
    @Test
    void aPassPassesOverAJarBeingFetchedAndADeployKeepsItsJar() throws Exception {
        JarCache cache = new JarCache(dir, 0, GRACE);
        Source src = new Source();
        JarRef app = src.add("app", 100);
        cache.ensure(app, src);
        usedAt(app, HOURS_AGO_2);
        ReentrantLock lock = lockOf(cache, app.sha256());
        lock.lock();
        try {
            assertThat(CompletableFuture.supplyAsync(() -> cache.evict(Set.of())).get(30, TimeUnit.SECONDS).jars()).isZero();
        } finally {
            lock.unlock();
        }
        assertThat(cached(app)).isTrue();
        assertThat(cache.evict(Set.of()).jars()).isEqualTo(1);

        assertThat(cache.offerDeployed(app, src)).as("fetched again").isTrue();
        usedAt(app, HOURS_AGO_2);
        assertThat(cache.evict(Set.of()).jars()).isZero();
        assertThat(cached(app)).isTrue();
        assertThat(cache.offerDeployed(app, src)).as("already here").isFalse();
    }

    /**
     * A pass is not held up by a spawn that fetches a jar a pass left aside (a review found it waiting
     * for the fetch, and with it the marks of the running workers' jars).
     */
    @Test
    void aPassIsNotHeldUpByAFetchUnderWay() throws Exception {
        JarCache cache = new JarCache(dir, 0, GRACE);
        Source src = new Source();
        JarRef a = src.add("a", 100);
        Files.createDirectories(dir);
        Path aside = Files.write(dir.resolve(a.sha256() + ".evicting"), src.jars.get(a.sha256()));
        Files.setLastModifiedTime(aside, FileTime.fromMillis(HOURS_AGO_2));
        CountDownLatch fetching = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        JarSource slow = (sha, offset, length) -> {
            fetching.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return src.read(sha, offset, length);
        };
        CompletableFuture<Path> spawn = CompletableFuture.supplyAsync(() -> cache.ensure(a, slow), r -> Thread.ofPlatform().start(r));
        try {
            assertThat(fetching.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(CompletableFuture.supplyAsync(() -> cache.evict(Set.of()), r -> Thread.ofPlatform().start(r))
                .get(30, TimeUnit.SECONDS)).isNotNull();
        } finally {
            release.countDown();
        }
        assertThat(spawn.get(30, TimeUnit.SECONDS)).hasBinaryContent(src.jars.get(a.sha256()));
    }

    /**
     * Every fetch of a jar gives it the same time: a class archive records its jars' times, and a jar
     * fetched again after its eviction must match (a review found every archive of it stale for good).
     */
    @Test
    void aJarFetchedAgainHasTheTimeItHadBefore() throws Exception {
        JarCache cache = new JarCache(dir, 0, GRACE);
        Source src = new Source();
        JarRef a = src.add("a", 100);
        Path jar = cache.ensure(a, src);
        FileTime first = Files.getLastModifiedTime(jar);
        usedAt(a, HOURS_AGO_2);
        assertThat(cache.evict(Set.of()).jars()).isEqualTo(1);

        cache.ensure(a, src);

        assertThat(Files.getLastModifiedTime(jar)).isEqualTo(first).isEqualTo(JarCache.FETCHED_TIME);
    }

    /**
     * The wall clock steps forward (a machine resumed after an hour's sleep, an NTP step): a spawn marks
     * its jar again, though this host marked it "a moment ago" by a clock that stood still. (A review
     * found the mark skipped, the marker two hours old, and the jar taken before the JVM opened it.)
     */
    @Test
    void aSpawnAfterTheWallClockSteppedForwardMarksItsJarAgain() throws Exception {
        TestClock clock = new TestClock();
        JarCache cache = new JarCache(dir, 0, GRACE, clock);
        Source src = new Source();
        JarRef a = src.add("a", 100);
        cache.ensure(a, src); // an earlier spawn
        clock.step.addAndGet(Duration.ofHours(2).toMillis());

        Path jar = cache.ensure(a, src); // the next spawn, about to start a JVM on it
        assertThat(cache.evict(Set.of()).jars()).isZero();

        assertThat(jar).exists();
        assertThat(Files.getLastModifiedTime(dir.resolve(a.sha256() + ".used")).toMillis())
            .isGreaterThan(System.currentTimeMillis() + Duration.ofMinutes(119).toMillis());
    }

    /**
     * An entry that cannot be deleted does not stop the pass: one with a jar's name that is no file (a
     * directory) is left alone and not counted, and a leftover or a marker that cannot be deleted is
     * logged, while the jars go and are counted. (A review found the first failure ending the pass, and
     * the jars deleted before it uncounted.)
     */
    @Test
    void whatCannotBeDeletedIsPassedOverAndTheRestGoes() throws Exception {
        JarCache cache = new JarCache(dir, 0, GRACE);
        List<JarRef> refs = fetched(cache, 100, "a", "b");
        usedAt(refs.get(0), HOURS_AGO_2 + 1_000);
        Path markerOfB = dir.resolve(refs.get(1).sha256() + ".used");
        Files.delete(markerOfB);
        Files.createDirectories(markerOfB.resolve("x")); // cannot be deleted
        Files.setLastModifiedTime(markerOfB, FileTime.fromMillis(HOURS_AGO_2 + 2_000));
        Path odd = Files.createDirectories(dir.resolve("c".repeat(64) + ".jar").resolve("x")).getParent();
        Files.setLastModifiedTime(odd, FileTime.fromMillis(HOURS_AGO_2)); // older than any jar
        Path leftover = Files.createDirectories(dir.resolve("d".repeat(64) + ".evicting").resolve("x")).getParent();
        Files.setLastModifiedTime(leftover, FileTime.fromMillis(HOURS_AGO_2));

        JarCache.Eviction e = cache.evict(Set.of());

        assertThat(e).isEqualTo(new JarCache.Eviction(2, 200, 200, 0));
        assertThat(cache.evictedJars()).isEqualTo(2);
        assertThat(cached(refs.get(0))).isFalse();
        assertThat(cached(refs.get(1))).isFalse();
        assertThat(odd).isDirectory();
    }

    /**
     * A jar a pass moved aside and neither deleted nor moved back (its host died between the two) comes
     * back when it was marked since, and goes otherwise: no other pass runs meanwhile, whatever its time.
     */
    @Test
    void aJarLeftAsideComesBackWhenMarkedAndGoesOtherwise() throws Exception {
        JarCache cache = new JarCache(dir, Long.MAX_VALUE - 1, GRACE);
        List<JarRef> refs = fetched(cache, 100, "marked", "unmarked");
        for (JarRef r : refs) {
            Files.move(dir.resolve(r.sha256() + ".jar"), dir.resolve(r.sha256() + ".evicting"));
        }
        usedAt(refs.get(1), HOURS_AGO_2);

        cache.evict(Set.of());

        assertThat(cached(refs.get(0))).isTrue();
        assertThat(cached(refs.get(1))).isFalse();
        assertThat(dir.resolve(refs.get(1).sha256() + ".evicting")).doesNotExist();
    }

    /**
     * A second pass in the JVM that runs one skips its turn without touching the lock file, also through
     * another path to the directory: a file lock belongs to the process, and closing a second channel on
     * it would free the pass under way for another host's pass. (Reviews found that, with another process
     * then taking the lock.)
     */
    @Test
    void aSecondPassInTheJvmLeavesTheFirstItsLock(@TempDir Path elsewhere) throws Exception {
        TestClock clock = new TestClock();
        JarCache cache = new JarCache(dir, 0, GRACE, clock);
        Source src = new Source();
        JarRef a = src.add("a", 100);
        cache.ensure(a, src);
        usedAt(a, HOURS_AGO_2);
        Path link = Files.createSymbolicLink(elsewhere.resolve("jars"), dir);
        Path probe = Files.writeString(elsewhere.resolve("Probe.java"), """
            import java.nio.channels.*; import java.nio.file.*;
            public class Probe { public static void main(String[] a) throws Exception {
              try (FileChannel c = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                   FileLock l = c.tryLock()) { System.out.print(l == null ? "busy" : "got"); } } }
            """);
        CompletableFuture<JarCache.Eviction> pass = clock.holdPass(cache);
        try {
            assertThat(otherProcessTries(probe)).isEqualTo("busy");

            assertThat(new JarCache(dir, 0, GRACE).evict(Set.of())).as("another cache of this JVM, same directory").isNull();
            assertThat(new JarCache(link, 0, GRACE).evict(Set.of())).as("the same through a symbolic link").isNull();

            assertThat(otherProcessTries(probe)).as("another host's pass, while the first runs").isEqualTo("busy");
        } finally {
            clock.release.countDown();
        }
        assertThat(pass.get(10, TimeUnit.SECONDS).jars()).isEqualTo(1);
        assertThat(otherProcessTries(probe)).isEqualTo("got");
    }

    private String otherProcessTries(Path probe) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            probe.toString(), dir.resolve(JarCache.EVICT_LOCK).toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
