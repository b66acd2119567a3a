package io.jcircuit.host;

import io.jcircuit.Circuit;
import io.jcircuit.Spawned;
import io.jcircuit.SpawnOptions;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** A host's jar cache over its limit: what its running workers need stays, the rest goes. */
@Tag("slow")
class JarEvictionTest {

    public interface Counter {
        int add(int delta);
    }

    static final class CounterImpl implements Counter {
        private int value;

        @Override
        public synchronized int add(int delta) {
            return value += delta;
        }
    }

    private static final long HOURS_AGO_2 = System.currentTimeMillis() - Duration.ofHours(2).toMillis();

    /** A jar left by an earlier spawn, unused for two hours, with a marker as a host writes it. */
    private static Path staleJar(Path jars, int n) throws Exception {
        byte[] bytes = ("stale " + n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sha = HexFormat.of().formatHex(io.jcircuit.runtime.host.ClasspathJars.digest().digest(bytes));
        Path jar = Files.write(jars.resolve(sha + ".jar"), bytes);
        Path marker = Files.write(jars.resolve(sha + ".used"), new byte[0]);
        Files.setLastModifiedTime(marker, FileTime.fromMillis(HOURS_AGO_2));
        return jar;
    }

    private static void ageMarkers(Path jars) throws Exception {
        try (Stream<Path> files = Files.list(jars)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().endsWith(".used")) {
                    Files.setLastModifiedTime(f, FileTime.fromMillis(HOURS_AGO_2));
                }
            }
        }
    }

    @Test
    void aRunningWorkersJarsStayAndOthersGo(@TempDir Path state) throws Exception {
        HostDaemon.Config config = new HostDaemon.Config("ev", state, null, null, 0, 0).withJarCacheBytes(0);
        try (HostDaemon host = HostDaemon.start(config);
             CircuitRuntime spawner = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            Spawned<Counter> s = spawner.spawn("ev", List.of(), () -> Circuit.current().ref(Counter.class, new CounterImpl()),
                SpawnOptions.defaults().daemonized());
            Counter counter = s.result();
            assertThat(counter.add(1)).isEqualTo(1);
            Path jars = state.resolve("jars");
            List<String> workersJars = WorkerDir.jarsOf(state.resolve("workers").resolve(s.worker().id().toString()));
            assertThat(workersJars).isNotEmpty();
            Path stale1 = staleJar(jars, 1);
            Path stale2 = staleJar(jars, 2);
            ageMarkers(jars); // as if the worker had been running for two hours

            host.evictJarsNow();

            assertThat(stale1).doesNotExist();
            assertThat(stale2).doesNotExist();
            for (String sha : workersJars) {
                assertThat(jars.resolve(sha + ".jar")).exists();
                // marked again by the host: another host that shares the directory leaves them too
                assertThat(Files.getLastModifiedTime(jars.resolve(sha + ".used")).toMillis())
                    .isGreaterThan(HOURS_AGO_2 + Duration.ofHours(1).toMillis());
            }
            assertThat(counter.add(1)).isEqualTo(2);
            s.worker().kill();
        }
    }
}
