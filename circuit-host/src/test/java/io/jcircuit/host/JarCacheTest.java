package io.jcircuit.host;

import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        assertThat(new JarCache(dir).evict(Set.of())).isNull();
        try (FileChannel ch = FileChannel.open(dir.resolve(JarCache.EVICT_LOCK), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = ch.lock()) {
            assertThat(held.isValid()).isTrue();
            assertThat(cache.evict(Set.of())).isNull();
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
}
