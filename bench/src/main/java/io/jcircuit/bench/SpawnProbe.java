package io.jcircuit.bench;

import io.jcircuit.Circuit;
import io.jcircuit.Fn;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.jcircuit.bench.Metric.JVM_HELLO;
import static io.jcircuit.bench.Metric.SPAWN_COLD_P50;
import static io.jcircuit.bench.Metric.SPAWN_WARM_P50;
import static io.jcircuit.bench.Metric.WORKER_IDLE_RSS;

/**
 * The spawn figures, measured in the spawner child against real host daemons on loopback. The hosts
 * (the first runs the embedded ZooKeeper) and a spawner runtime that spawns on them by name all live
 * in this JVM. Steps that are not timed overlap, to keep the pass short; timed steps run alone.
 *
 * <ol>
 *   <li>Host {@value #COLD_HOST} keeps no warm JVMs; host {@value #WARM_HOST} keeps one per classpath.
 *       Each gets a first spawn, not counted: it fetches the classpath's jars into the host's cache.
 *       The cold host's first worker is left to exit by itself, which writes the classpath's AppCDS
 *       archive, as every later worker of a long-running host finds it; the warm host's first spawn
 *       runs meanwhile and fills its pool.</li>
 *   <li>A daemonized worker is spawned on the cold host and left idle for at least
 *       {@link Plan#workerIdleMs} (10 s but in the smoke plan) while the warm pool fills; then its {@code VmRSS} is read from
 *       {@code /proc/<pid>/status} and it is killed.</li>
 *   <li>Cold spawns and hello-world JVM starts ({@link JvmHello}) take turns, so that both see the
 *       same machine. A spawn is timed from the {@code spawn} call until the function's result is back
 *       in the spawner; its worker is killed after the clock stops.</li>
 *   <li>Warm spawns: each waits until the warm host has a warm JVM ready again (the host restocks in
 *       the background after each spawn), then is timed like a cold one.</li>
 * </ol>
 * All state lives in the directory given; every worker is killed and both hosts are closed when
 * {@link #measure} returns or throws.
 */
final class SpawnProbe {

    static final String COLD_HOST = "bench-cold";
    static final String WARM_HOST = "bench-warm";
    /**
     * How long the worker whose memory is read sits idle first, in the plans that say something about its value
     * ({@link Plan#workerIdleMs}). Long enough for the JVM to have handed
     * back what its JIT compilers kept from start: their arena chunks stay pooled until a periodic
     * clean-up (every 5 s), and the native heap trim after it returns them. Read every second, an idle
     * worker's VmRSS stayed at 85-88 MB for 4 to 5 s after its spawn, then fell to 78-81 MB and stayed
     * there (docs/performance.md); the first figure is start-up, the second is idle.
     */
    static final long WORKER_IDLE_MS = 10_000;

    /** What every spawn runs: a serializable lambda that returns its worker's process id. */
    private static final Fn<Long> PID = () -> ProcessHandle.current().pid();
    /** Generous: the first spawn of a host fetches some 20 MB of jars. */
    private static final long CALL_TIMEOUT_MS = 120_000;
    private static final Duration WARM_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);
    private static final double NANOS_PER_MS = 1e6;

    /**
     * The four spawn figures and a line of notes for the progress stream: how long each host's first
     * spawn took and what the idle worker's memory is made of.
     */
    record Measured(Results figures, String note) {
    }

    private SpawnProbe() {
    }

    /**
     * Measures the spawn figures with state under {@code stateDir}, which must exist. Blocks for the
     * whole measurement, some 20 s with {@link Plan#QUICK}.
     *
     * @throws BenchException when a host or worker fails, or a figure cannot be taken
     */
    static Measured measure(Plan plan, Path stateDir) throws Exception {
        JvmHello hello = JvmHello.writeTo(Files.createDirectories(stateDir.resolve("hello")));
        Map<Metric, Double> f = new EnumMap<>(Metric.class);
        String note;
        try (HostDaemon cold = HostDaemon.start(hostConfig(COLD_HOST, stateDir, null, 0));
             HostDaemon warm = HostDaemon.start(hostConfig(WARM_HOST, stateDir, cold.zookeeper(), 1));
             CircuitRuntime spawner = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(cold.zookeeper())
                 .defaultCallTimeoutMs(CALL_TIMEOUT_MS).build())) {
            note = firstSpawns(spawner, cold);
            note += "; " + idleRss(spawner, warm, plan.workerIdleMs(), f);
            coldAndHello(plan, spawner, hello, f);
            warm(plan, spawner, warm, f);
        }
        return new Measured(Results.of(Metric.Group.SPAWN, f), note);
    }

    private static HostDaemon.Config hostConfig(String name, Path stateDir, String zookeeper, int warm) throws IOException {
        return new HostDaemon.Config(name, Files.createDirectories(stateDir.resolve(name)), zookeeper, null, 0, warm);
    }

    /**
     * The uncounted first spawn on each host. The warm host's runs while the cold host's first worker
     * exits by itself; both are over when this returns. Returns a note on how long they took.
     *
     * <p>The cold host's comes first and alone: a spawner packs the directories on its classpath on
     * its first spawn, and two spawns packing the same directory at once can trip over each other's
     * file.
     */
    private static String firstSpawns(Circuit spawner, HostDaemon cold) throws Exception {
        long coldNanos = System.nanoTime();
        long pid = spawn(spawner, COLD_HOST, SpawnOptions.defaults()).result();
        coldNanos = System.nanoTime() - coldNanos;
        long fetched = cold.fetchedJars();
        long warmNanos;
        try (ExecutorService background = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Long> warmFirst = background.submit(() -> timedSpawn(spawner, WARM_HOST));
            awaitExit(pid);
            try {
                warmNanos = warmFirst.get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r
                    : new BenchException("the first spawn on host " + WARM_HOST + " failed: " + e.getCause(), e);
            }
        }
        return String.format(Locale.ROOT, "first spawn on each fresh host (fetches %d jars, no CDS archive yet):"
            + " %.0f ms cold host, %.0f ms warm host (while the cold host's first worker exits)", fetched,
            coldNanos / NANOS_PER_MS, warmNanos / NANOS_PER_MS);
    }

    /** Waits until the non-daemonized worker {@code pid}, whose function is done, has exited by itself. */
    private static void awaitExit(long pid) throws InterruptedException {
        Optional<ProcessHandle> worker = ProcessHandle.of(pid);
        if (worker.isEmpty()) {
            return;
        }
        try {
            worker.get().onExit().get(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            worker.get().destroyForcibly();
            throw new BenchException("the first worker on host " + COLD_HOST + " (pid " + pid
                + ") did not exit by itself within " + EXIT_TIMEOUT.toSeconds() + " s of its function's end");
        }
    }

    /** {@link JvmHello} starts and cold spawns, taking turns. */
    private static void coldAndHello(Plan plan, Circuit spawner, JvmHello hello, Map<Metric, Double> into)
        throws IOException, InterruptedException {
        long[] helloNanos = new long[plan.helloStarts()];
        long[] coldNanos = new long[plan.coldSpawns()];
        for (int i = 0; i < Math.max(helloNanos.length, coldNanos.length); i++) {
            if (i < helloNanos.length) {
                helloNanos[i] = hello.timeOnce();
            }
            if (i < coldNanos.length) {
                coldNanos[i] = timedSpawn(spawner, COLD_HOST);
            }
        }
        into.put(JVM_HELLO, p50Millis(helloNanos));
        into.put(SPAWN_COLD_P50, p50Millis(coldNanos));
    }

    /**
     * Puts the VmRSS of a worker idle for at least {@code idleMs} into {@code into}, and returns a
     * note on what it is made of. The warm host's pool fills meanwhile; nothing is timed here.
     */
    private static String idleRss(Circuit spawner, HostDaemon warm, long idleMs, Map<Metric, Double> into)
        throws IOException, InterruptedException {
        Spawned<Long> s = spawn(spawner, COLD_HOST, SpawnOptions.defaults().daemonized());
        try {
            long idleSince = System.nanoTime();
            awaitWarmJvm(warm);
            long left = TimeUnit.MILLISECONDS.toNanos(idleMs) - (System.nanoTime() - idleSince);
            if (left > 0) {
                Thread.sleep(Duration.ofNanos(left));
            }
            ProcStatus status = ProcStatus.read(s.result());
            into.put(WORKER_IDLE_RSS, status.rssMb());
            return String.format(Locale.ROOT, "idle worker VmRSS %.1f MB = anon %.1f + file %.1f + shmem %.1f MB",
                status.rssMb(), status.anonMb(), status.fileMb(), status.shmemMb());
        } finally {
            s.worker().kill(); // daemonized: closing its host would leave it running
        }
    }

    /** Warm spawns on a host that keeps one warm JVM; checks that the pool served every timed one. */
    private static void warm(Plan plan, Circuit spawner, HostDaemon host, Map<Metric, Double> into)
        throws InterruptedException {
        long[] nanos = new long[plan.warmSpawns()];
        for (int i = 0; i < nanos.length; i++) {
            awaitWarmJvm(host);
            nanos[i] = timedSpawn(spawner, WARM_HOST);
        }
        if (host.warmSpawns() != nanos.length) {
            throw new BenchException("host " + WARM_HOST + " served " + host.warmSpawns() + " of " + nanos.length
                + " timed spawns from its warm pool; a warm JVM died or was not taken");
        }
        into.put(SPAWN_WARM_P50, p50Millis(nanos));
    }

    private static void awaitWarmJvm(HostDaemon host) throws InterruptedException {
        if (!host.awaitWarmReady(1, WARM_TIMEOUT)) {
            throw new BenchException("host " + WARM_HOST + " had no warm JVM ready within "
                + WARM_TIMEOUT.toSeconds() + " s");
        }
    }

    /** One spawn, timed until its result is back; its worker is killed once the clock has stopped. */
    private static long timedSpawn(Circuit spawner, String host) {
        long start = System.nanoTime();
        Spawned<Long> s = spawn(spawner, host, SpawnOptions.defaults());
        long nanos = System.nanoTime() - start;
        s.worker().kill();
        return nanos;
    }

    /** Spawns {@link #PID} on {@code host} and checks that it ran in another process. */
    private static Spawned<Long> spawn(Circuit spawner, String host, SpawnOptions options) {
        Spawned<Long> s = spawner.spawn(host, List.of(), PID, options);
        if (s.result() == null || s.result() == ProcessHandle.current().pid()) {
            throw new BenchException("a spawn on host " + host + " returned pid " + s.result()
                + ", not that of a new worker JVM");
        }
        return s;
    }

    private static double p50Millis(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return Percentiles.micros(sorted, 50) / 1_000;
    }
}
