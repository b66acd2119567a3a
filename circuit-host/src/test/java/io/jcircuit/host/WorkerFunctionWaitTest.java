package io.jcircuit.host;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.SpawnSpec;
import io.jcircuit.runtime.host.SpawnedWorker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A spawned worker waits for its spawner's function ({@code circuit.worker.functionWaitMs}, 60 s by
 * default) and ends when it never comes (the spawn failed on the way: its host killed, say), cold or
 * warm, daemonized or not; and one whose function is merely slow is still there to run it. A warm JVM
 * ran gos of its own while it warmed up, which must not count as its function (they did: a warm
 * daemonized worker never ended, and a warm plain one ended before its function came).
 */
@Timeout(180)
class WorkerFunctionWaitTest {

    /**
     * Two spawns whose functions never come (the spec goes to the host, no go follows): the first starts
     * a cold JVM, the second takes the host's warm JVM (a warm pool of 1). Both end by themselves.
     */
    @Test
    void aDaemonizedWarmWorkerWhoseFunctionNeverComesEndsByItself(@TempDir Path state, @TempDir Path packs) throws Exception {
        try (HostDaemon warmHost = HostDaemon.start(new HostDaemon.Config("warmv", state, null, null, 0, 1));
             CircuitRuntime spawner = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(warmHost.zookeeper()).build())) {
            HostService hs = spawner.worker(warmHost.address()).dial(HostService.SERVICE, HostService.class);
            io.jcircuit.runtime.host.ClasspathJars jars = new io.jcircuit.runtime.host.ClasspathJars(packs);
            SpawnSpec spec = spec(spawner, jars, "-D" + io.jcircuit.runtime.host.WorkerMain.FUNCTION_WAIT_PROPERTY + "=1500", true);
            Pair pair = coldThenWarm(warmHost, hs, spec);
            SpawnedWorker warm = pair.warm();
            ProcessHandle coldProc = pair.coldProc();
            ProcessHandle warmProc = pair.warmProc();
            try {
                coldProc.onExit().get(60, TimeUnit.SECONDS);
                boolean warmEnded;
                try {
                    warmProc.onExit().get(30, TimeUnit.SECONDS);
                    warmEnded = true;
                } catch (java.util.concurrent.TimeoutException e) {
                    warmEnded = false;
                }
                assertThat(warmEnded).as("the warm worker whose function never came (wait limit 1.5 s) ended within 30 s;"
                    + " its stderr: " + java.nio.file.Files.readString(Path.of(warm.dir()).resolve("stderr"))).isTrue();
            } finally {
                coldProc.destroyForcibly();
                warmProc.destroyForcibly();
            }
        }
    }

    /** A cold worker, then the host's warm JVM, both spawned with one spec. */
    private record Pair(SpawnedWorker warm, ProcessHandle coldProc, ProcessHandle warmProc) {
    }

    /** Spawns {@code spec} twice on {@code host}: the first starts a cold JVM, the second takes its warm one. */
    private static Pair coldThenWarm(HostDaemon host, HostService hs, SpawnSpec spec) throws InterruptedException {
        SpawnedWorker cold = hs.spawn(spec);
        ProcessHandle coldProc = ProcessHandle.of(cold.pid()).orElseThrow();
        assertThat(host.awaitWarmReady(1, Duration.ofSeconds(60))).isTrue();
        SpawnedWorker warm = hs.spawn(spec);
        assertThat(host.warmSpawns()).as("the second spawn took the warm JVM").isEqualTo(1);
        return new Pair(warm, coldProc, ProcessHandle.of(warm.pid()).orElseThrow());
    }

    /**
     * A warm worker (not daemonized) whose function takes a few seconds to come, far below the 60 s a
     * worker waits for it: it must still be there to run it, as a cold one is.
     */
    @Test
    void aWarmWorkerWhoseFunctionIsSlowToComeWaitsForIt(@TempDir Path state, @TempDir Path packs) throws Exception {
        try (HostDaemon warmHost = HostDaemon.start(new HostDaemon.Config("warms", state, null, null, 0, 1));
             CircuitRuntime spawner = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(warmHost.zookeeper()).build())) {
            HostService hs = spawner.worker(warmHost.address()).dial(HostService.SERVICE, HostService.class);
            io.jcircuit.runtime.host.ClasspathJars jars = new io.jcircuit.runtime.host.ClasspathJars(packs);
            SpawnSpec spec = spec(spawner, jars, "-Dcircuit.test.slowFunction=1", false);
            Pair pair = coldThenWarm(warmHost, hs, spec);
            SpawnedWorker warm = pair.warm();
            ProcessHandle coldProc = pair.coldProc();
            ProcessHandle warmProc = pair.warmProc();
            try {
                boolean coldEnded = coldProc.onExit().completeOnTimeout(null, 3, TimeUnit.SECONDS).get() != null && !coldProc.isAlive();
                boolean warmEnded = !warmProc.isAlive();
                assertThat(coldEnded).as("the cold worker waits for its function").isFalse();
                assertThat(warmEnded).as("the warm worker waits for its function 3 s after its spawn; its stderr: "
                    + java.nio.file.Files.readString(Path.of(warm.dir()).resolve("stderr"))).isFalse();
                Integer one = spawner.worker(warm.address()).go(() -> 1);
                assertThat(one).isEqualTo(1);
            } finally {
                coldProc.destroyForcibly();
                warmProc.destroyForcibly();
            }
        }
    }

    /** A spawn of this JVM's classpath with one JVM option, as the host gets it from a spawner. */
    private static SpawnSpec spec(CircuitRuntime spawner, io.jcircuit.runtime.host.ClasspathJars jars, String jvmArg, boolean daemon) {
        return new SpawnSpec(spawner.id(), jars.of(System.getProperty("java.class.path")),
            spawner.ref(io.jcircuit.runtime.host.JarSource.class, jars), List.of(), List.of(jvmArg), 0, java.util.Map.of(), daemon);
    }
}
