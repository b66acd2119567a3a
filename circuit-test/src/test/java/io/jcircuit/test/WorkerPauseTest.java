package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.link.Link;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker JVM stopped with {@code kill -STOP} and resumed with {@code kill -CONT}: its links go
 * silent without closing. A pause shorter than the outage limit must lose and repeat nothing; a
 * longer one must fail the calls with {@link WorkerDiedException}. The worker counts what it runs.
 */
@Tag("slow")
@Timeout(120) // a hang in a session is a bug to report, not to wait out
class WorkerPauseTest {

    static final int SILENCE_MS = 600;
    static final Duration SLACK = Duration.ofSeconds(3);

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    public interface Counted {
        long run(long id);

        /** Ids run so far, and how many ran more than once. */
        Set<Long> ids();

        int repeated();
    }

    static final class Counter implements Counted {
        final ConcurrentHashMap<Long, AtomicInteger> runs = new ConcurrentHashMap<>();

        @Override
        public long run(long id) {
            runs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            return id * 2;
        }

        @Override
        public Set<Long> ids() {
            return Set.copyOf(runs.keySet());
        }

        @Override
        public int repeated() {
            return (int) runs.values().stream().filter(n -> n.get() > 1).count();
        }
    }

    record Served(Counted counted, long pid) implements Serializable {
    }

    private CircuitRuntime client;

    private CircuitRuntime client(int outageLimitMs) {
        RuntimeConfig.Builder c = RuntimeConfig.builder().zookeeper(circuit.zookeeper()).defaultCallTimeoutMs(60_000);
        c.link().heartbeatIntervalMs(100).silenceLimitMs(SILENCE_MS).outageLimitMs(outageLimitMs).redialMinMs(10).redialMaxMs(200);
        client = CircuitRuntime.start(c.build());
        return client;
    }

    @AfterEach
    void closeClient() {
        if (client != null) {
            client.close();
        }
    }

    private static Served spawnCounter(Circuit c, int outageLimitMs) {
        Spawned<Served> s = c.spawn("host-1", List.of(), () -> new Served(
                Circuit.current().ref(Counted.class, new Counter()), ProcessHandle.current().pid()),
            SpawnOptions.defaults().withJvmArgs("-Dcircuit.link.heartbeatMs=100",
                "-Dcircuit.link.silenceMs=" + SILENCE_MS, "-Dcircuit.link.outageLimitMs=" + outageLimitMs));
        return s.result();
    }

    private static void signal(String sig, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %d", sig, pid).isZero();
    }

    /**
     * Waits until process {@code pid} is stopped: {@code kill -STOP} returns once the signal is sent, and
     * the process may still run (and read from its sockets) for a moment after that.
     */
    private static void awaitStopped(long pid) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("T"); // the state, after "(comm) "
        });
    }

    private Link linkTo(CircuitRuntime rt, Counted ref) {
        var home = rt.homeOf(ref).id();
        return rt.links().stream().filter(l -> l.peer().equals(home)).findFirst().orElseThrow();
    }

    @Test
    void shouldRunEveryCallExactlyOnceAcrossAPauseShorterThanTheLimit() throws Exception {
        CircuitRuntime c = client(15_000);
        Served served = spawnCounter(c, 15_000);
        RobustLinkTest.Load load = new RobustLinkTest.Load(served.counted()::run, 4);
        long pausedMs;
        try (load) {
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
            Link link = linkTo(c, served.counted());
            long before = link.outages();
            long stoppedAt = System.nanoTime();
            signal("STOP", served.pid());
            try {
                await().atMost(Duration.ofMillis(SILENCE_MS).plus(SLACK)).until(() -> link.outages() > before);
                long noticedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
                System.out.printf("WorkerPauseTest: silence noticed %d ms after kill -STOP%n", noticedMs);
                // 2 s: past the silence limit, and well inside the worker's ZooKeeper session timeout
                // (4 s); a longer pause expires that session, and leaving /worker ends the link.
                long left = stoppedAt + TimeUnit.SECONDS.toNanos(2) - System.nanoTime();
                if (left > 0) {
                    TimeUnit.NANOSECONDS.sleep(left); // the pause itself is what is tested
                }
            } finally {
                signal("CONT", served.pid());
            }
            pausedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
        }
        assertThat(load.failures).isEmpty();
        assertThat(load.answered).hasSize((int) (load.nextId.get() - 1));
        assertThat(served.counted().repeated()).as("calls run twice").isZero();
        assertThat(served.counted().ids()).as("the worker ran exactly the calls answered").isEqualTo(load.answered);
        System.out.printf("WorkerPauseTest: paused %d ms; %d calls, each run once%n", pausedMs, load.answered.size());
    }

    @Test
    void shouldRunEveryCallExactlyOnceAcrossAPausePastTheZooKeeperSessionTimeout() throws Exception {
        // Paused for longer than its ZooKeeper session lasts (4 s), the worker leaves /worker; its host
        // still runs it, so its session stays for the link's outage limit, as for any outage.
        CircuitRuntime c = client(30_000);
        Served served = spawnCounter(c, 30_000);
        io.jcircuit.WorkerId worker = c.homeOf(served.counted()).id();
        java.util.concurrent.atomic.AtomicBoolean exited = new java.util.concurrent.atomic.AtomicBoolean();
        c.homeOf(served.counted()).onExit(() -> exited.set(true)); // before, it ran when the entry went
        java.util.concurrent.CountDownLatch left = new java.util.concurrent.CountDownLatch(1);
        RobustLinkTest.Load load = new RobustLinkTest.Load(served.counted()::run, 4);
        try (io.jcircuit.Subscription watch = c.anchors().subscribe("/worker", new io.jcircuit.Membership() {
                 @Override
                 public void joined(io.jcircuit.Entry e) {
                 }

                 @Override
                 public void left(io.jcircuit.Entry e) {
                     if (e.worker().equals(worker)) {
                         left.countDown();
                     }
                 }
             }); load) {
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
            signal("STOP", served.pid());
            try {
                assertThat(left.await(60, TimeUnit.SECONDS)).as("its ZooKeeper session expired").isTrue();
            } finally {
                signal("CONT", served.pid());
            }
            load.awaitMoreAnswers(200, Duration.ofSeconds(60));
        }
        assertThat(load.failures).isEmpty();
        assertThat(load.answered).hasSize((int) (load.nextId.get() - 1));
        assertThat(served.counted().repeated()).as("calls run twice").isZero();
        assertThat(served.counted().ids()).as("the worker ran exactly the calls answered").isEqualTo(load.answered);
        await().atMost(Duration.ofSeconds(30)).until(() -> c.anchors().list("/worker").entries().stream()
            .anyMatch(e -> e.worker().equals(worker))); // filed again
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).untilFalse(exited);
    }

    @Test
    void shouldNotRunCallsWhoseCallersGaveUpWhileTheWorkerWasPaused() throws Exception {
        // Before, a call that waited unread in the socket of a stopped worker was run after it resumed,
        // with a fresh deadline, although its caller had failed it with DeadlineExceededException. The
        // default silence limit (5 s): the calls go into the connection while the worker is stopped.
        RuntimeConfig.Builder config = RuntimeConfig.builder().zookeeper(circuit.zookeeper());
        client = CircuitRuntime.start(config.build());
        CircuitRuntime c = client;
        Served served = c.<Served>spawn("host-1", List.of(), () -> new Served(
            Circuit.current().ref(Counted.class, new Counter()), ProcessHandle.current().pid())).result();
        java.util.concurrent.atomic.AtomicLong nextId = new java.util.concurrent.atomic.AtomicLong(1);
        Set<Long> gaveUp = ConcurrentHashMap.newKeySet();
        Set<Long> answered = ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(4);
        for (int i = 0; i < 4; i++) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (!stop.get()) {
                        long id = nextId.getAndIncrement();
                        try {
                            io.jcircuit.Deadline.within(Duration.ofMillis(1_000), () -> served.counted().run(id));
                            answered.add(id);
                        } catch (io.jcircuit.DeadlineExceededException e) {
                            gaveUp.add(id);
                        }
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        await().until(() -> answered.size() > 200);
        signal("STOP", served.pid());
        awaitStopped(served.pid());
        long sentWhileStopped = nextId.get(); // this id and later ones were sent while it was stopped
        try {
            // every caller gave up twice: stopped for two deadlines at least
            await().atMost(Duration.ofSeconds(15)).until(() -> gaveUp.size() >= 8);
        } finally {
            signal("CONT", served.pid());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> answered.size() > 400);
        stop.set(true);
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();

        Set<Long> ran = served.counted().ids();
        // A call the worker had read before it stopped may still run (its caller's exception says that it
        // may have); one sent while it was stopped waited unread in its socket, and must not.
        List<Long> unread = gaveUp.stream().filter(id -> id >= sentWhileStopped).toList();
        assertThat(unread).as("calls sent while it was stopped, given up at their deadlines").isNotEmpty();
        assertThat(ran).as("calls sent while it was stopped and given up, run anyway").doesNotContainAnyElementsOf(unread);
        assertThat(ran).containsAll(answered);
    }

    @Test
    void shouldDeclareAWorkerPausedPastTheLimitDead() throws Exception {
        int outageLimitMs = 2_000;
        CircuitRuntime c = client(outageLimitMs);
        Served served = spawnCounter(c, 60_000);
        RobustLinkTest.Load load = new RobustLinkTest.Load(served.counted()::run, 4);
        long stoppedAt;
        try (load) {
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
            stoppedAt = System.nanoTime();
            signal("STOP", served.pid());
            try {
                await().atMost(Duration.ofMillis(SILENCE_MS + outageLimitMs).plus(SLACK)).until(load::allDone);
            } finally {
                signal("CONT", served.pid());
            }
        }
        long detectedMs = TimeUnit.NANOSECONDS.toMillis(load.firstFailureNanos.get() - stoppedAt);
        System.out.printf("WorkerPauseTest: declared dead %d ms after kill -STOP (silence %d + outage limit %d)%n",
            detectedMs, SILENCE_MS, outageLimitMs);
        assertThat(load.failures).isNotEmpty().allSatisfy(t -> assertThat(t).isInstanceOf(WorkerDiedException.class));
        assertThat(detectedMs).isGreaterThanOrEqualTo(outageLimitMs);
    }
}
