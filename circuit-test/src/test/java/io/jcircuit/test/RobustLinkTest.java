package io.jcircuit.test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jcircuit.Entry;
import io.jcircuit.Membership;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.anchor.EmbeddedZooKeeper;
import io.jcircuit.link.Link;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Links under network faults, injected by a {@link FaultProxy} in front of each of two runtimes (so
 * a fault cuts both directions, redials included). Callers keep calling throughout; the callee
 * counts how often each call ran. Every outage shorter than the outage limit must lose nothing and
 * repeat nothing; a longer one must end in {@link WorkerDiedException} and release what the dead
 * peer held. Detection is checked against a bound derived from the link's settings.
 */
@Tag("slow")
@Timeout(120) // a hang in a session is a bug to report, not to wait out
class RobustLinkTest {

    static final int HEARTBEAT_MS = 100;
    static final int SILENCE_MS = 600;
    /** Slack for scheduling on a loaded two-core machine, added to every detection bound. */
    static final Duration SLACK = Duration.ofSeconds(3);

    public interface Counted {
        long run(long id);
    }

    public interface Holder {
        void keep(Runnable ref);
    }

    /** Hands out references to new objects of its runtime. */
    public interface Maker {
        Counted make();
    }

    /** Counts each call id it runs. */
    static final class Callee implements Counted {
        final ConcurrentHashMap<Long, AtomicInteger> runs = new ConcurrentHashMap<>();

        @Override
        public long run(long id) {
            runs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            return id * 2;
        }
    }

    enum Fault {
        DROP(FaultProxy::drop),
        BLACKHOLE(FaultProxy::blackhole),
        UNREACHABLE(FaultProxy::unreachable), // a blackhole whose redials' SYNs are lost too
        DELAY(p -> p.delay(Duration.ofMillis(150)));

        final Consumer<FaultProxy> apply;

        Fault(Consumer<FaultProxy> apply) {
            this.apply = apply;
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Two runtimes, each reachable only through its own proxy. */
    static final class Pair implements AutoCloseable {
        final FaultProxy toA;
        final FaultProxy toB;
        final CircuitRuntime a;
        final CircuitRuntime b;
        final Callee callee = new Callee();
        final Counted counted;

        Pair(int outageLimitMs, String zookeeper) throws IOException {
            this(outageLimitMs, outageLimitMs, zookeeper);
        }

        /** a and b with outage limits of their own: the one with the shorter limit ends a session first. */
        Pair(int outageLimitA, int outageLimitB, String zookeeper) throws IOException {
            this(outageLimitA, outageLimitB, withZooKeeper(zookeeper), withZooKeeper(zookeeper));
        }

        /** a and b with settings of their own on top of the test's (a ZooKeeper each, say). */
        Pair(int outageLimitMs, Consumer<RuntimeConfig.Builder> tuneA, Consumer<RuntimeConfig.Builder> tuneB)
            throws IOException {
            this(outageLimitMs, outageLimitMs, tuneA, tuneB);
        }

        private Pair(int outageLimitA, int outageLimitB, Consumer<RuntimeConfig.Builder> tuneA,
                Consumer<RuntimeConfig.Builder> tuneB) throws IOException {
            Started s = startOnFreePorts(outageLimitA, outageLimitB, tuneA, tuneB);
            toA = s.toA();
            toB = s.toB();
            a = s.a();
            b = s.b();
            b.listen("counted", Counted.class, callee);
            counted = a.worker(b.address()).dial("counted", Counted.class);
        }

        private record Started(FaultProxy toA, FaultProxy toB, CircuitRuntime a, CircuitRuntime b) {
        }

        private static Consumer<RuntimeConfig.Builder> withZooKeeper(String zookeeper) {
            return c -> {
                if (zookeeper != null) {
                    c.zookeeper(zookeeper);
                }
            };
        }

        /**
         * Each runtime binds a port chosen beforehand (its proxy must know it first). Another socket, such
         * as a proxy's or a ZooKeeper client's, may take such a port before the runtime binds it: then
         * everything started is closed and new ports are tried, a few times.
         */
        private static Started startOnFreePorts(int outageLimitA, int outageLimitB, Consumer<RuntimeConfig.Builder> tuneA,
                Consumer<RuntimeConfig.Builder> tuneB) throws IOException {
            for (int attempt = 1; ; attempt++) {
                int portA = freePort();
                int portB = freePort();
                List<AutoCloseable> started = new ArrayList<>();
                try {
                    FaultProxy toA = FaultProxy.start(new InetSocketAddress("127.0.0.1", portA));
                    started.add(toA);
                    FaultProxy toB = FaultProxy.start(new InetSocketAddress("127.0.0.1", portB));
                    started.add(toB);
                    CircuitRuntime a = CircuitRuntime.start(config(portA, toA.port(), outageLimitA, tuneA));
                    started.add(a);
                    CircuitRuntime b = CircuitRuntime.start(config(portB, toB.port(), outageLimitB, tuneB));
                    return new Started(toA, toB, a, b);
                } catch (UncheckedIOException e) {
                    for (AutoCloseable c : started.reversed()) {
                        try {
                            c.close();
                        } catch (Exception ignored) {
                            // closing what this attempt started; the attempt's failure is what matters
                        }
                    }
                    if (attempt == 5 || e.getMessage() == null || !e.getMessage().contains("Address already in use")) {
                        throw e;
                    }
                }
            }
        }

        private static RuntimeConfig config(int port, int advertisedPort, int outageLimitMs, Consumer<RuntimeConfig.Builder> tune) {
            RuntimeConfig.Builder c = RuntimeConfig.builder().port(port).defaultCallTimeoutMs(60_000);
            c.link().advertisedPort(advertisedPort).heartbeatIntervalMs(HEARTBEAT_MS).silenceLimitMs(SILENCE_MS)
                .outageLimitMs(outageLimitMs).redialMinMs(10).redialMaxMs(200);
            tune.accept(c);
            return c.build();
        }

        void fault(Consumer<FaultProxy> f) {
            f.accept(toA);
            f.accept(toB);
        }

        Link linkFromAOrNull() {
            return a.links().stream().filter(l -> l.peer().equals(b.id())).findFirst().orElse(null);
        }

        Link linkFromA() {
            return a.links().stream().filter(l -> l.peer().equals(b.id())).findFirst().orElseThrow();
        }

        @Override
        public void close() {
            a.close();
            b.close();
            toA.close();
            toB.close();
        }
    }

    /** Callers that call until stopped or failed, recording every answer and failure. */
    static final class Load implements AutoCloseable {
        final AtomicLong nextId = new AtomicLong(1);
        final Set<Long> answered = ConcurrentHashMap.newKeySet();
        final Set<Long> failedIds = ConcurrentHashMap.newKeySet();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        final AtomicLong firstFailureNanos = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();

        Load(java.util.function.LongUnaryOperator target, int callers) {
            for (int i = 0; i < callers; i++) {
                threads.add(Thread.ofVirtual().name("caller-" + i).start(() -> {
                    while (running.get()) {
                        long id = nextId.getAndIncrement();
                        try {
                            long r = target.applyAsLong(id);
                            if (r != id * 2 || !answered.add(id)) {
                                failures.add(new AssertionError("call " + id + " answered " + r + " or twice"));
                            }
                        } catch (Throwable t) {
                            firstFailureNanos.compareAndSet(0, System.nanoTime());
                            failedIds.add(id);
                            failures.add(t);
                            return;
                        }
                    }
                }));
            }
        }

        void awaitMoreAnswers(int more, Duration within) {
            int target = answered.size() + more;
            await().atMost(within).until(() -> answered.size() >= target || !failures.isEmpty());
            assertThat(failures).isEmpty();
        }

        boolean allDone() {
            return threads.stream().noneMatch(Thread::isAlive);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    /** Holds the fault for its whole duration: the outage itself is what the test is about. */
    private static void holdFault(long sinceNanos, Duration total) throws InterruptedException {
        long left = sinceNanos + total.toNanos() - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void shouldRunEveryCallExactlyOnceAcrossAnOutageShorterThanTheLimit(Fault fault) throws Exception {
        try (Pair p = new Pair(8_000, null)) {
            Load load = new Load(p.counted::run, 4);
            try (load) {
                load.awaitMoreAnswers(200, Duration.ofSeconds(30));
                long outagesBefore = p.linkFromA().outages();
                long faultAt = System.nanoTime();
                p.fault(fault.apply);
                if (fault != Fault.DELAY) {
                    // A dropped connection is noticed at once; a silent one within the silence limit.
                    await().atMost(Duration.ofMillis(SILENCE_MS).plus(SLACK))
                        .until(() -> p.linkFromA().outages() > outagesBefore);
                    System.out.printf("RobustLinkTest: %s noticed after %d ms%n", fault,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - faultAt));
                }
                holdFault(faultAt, Duration.ofMillis(2_000));
                p.fault(FaultProxy::pass);
                load.awaitMoreAnswers(200, Duration.ofSeconds(30));
            }
            assertThat(load.failures).isEmpty();
            assertThat(load.answered).hasSize((int) (load.nextId.get() - 1));
            assertThat(p.callee.runs.keySet()).as("the callee ran exactly the calls answered").isEqualTo(load.answered);
            assertThat(p.callee.runs.values()).as("and each once").allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
            assertThat(p.linkFromA().isOpen()).isTrue();
            System.out.printf("RobustLinkTest: %s for 2 s: %d calls, each run once; %d outages on a's link%n",
                fault, load.answered.size(), p.linkFromA().outages());
        }
    }

    /** Notes when each call ran. */
    public interface Timed {
        void run(long id);
    }

    @Test
    void aCallHeldThroughAnOutageDoesNotRunAfterItsCallerGaveUp() throws Exception {
        try (Pair p = new Pair(30_000, null)) {
            ConcurrentHashMap<Long, Long> ranAt = new ConcurrentHashMap<>();
            p.b.listen("timed", Timed.class, id -> ranAt.put(id, System.nanoTime()));
            Timed timed = p.a.worker(p.b.address()).dial("timed", Timed.class);
            ConcurrentHashMap<Long, Long> deadlines = new ConcurrentHashMap<>();
            Set<Long> gaveUp = ConcurrentHashMap.newKeySet();
            AtomicLong ids = new AtomicLong();
            AtomicBoolean calling = new AtomicBoolean(true);
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                callers.add(Thread.ofVirtual().start(() -> {
                    while (calling.get()) {
                        long id = ids.incrementAndGet();
                        try {
                            io.jcircuit.Deadline.within(Duration.ofSeconds(1), () -> {
                                deadlines.put(id, System.nanoTime() + io.jcircuit.Deadline.remainingNanos().orElseThrow());
                                timed.run(id);
                                return null;
                            });
                        } catch (io.jcircuit.DeadlineExceededException e) {
                            gaveUp.add(id);
                        }
                    }
                }));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> ranAt.size() >= 200);
            long cutAt = System.nanoTime();
            p.fault(FaultProxy::blackhole);
            holdFault(cutAt, Duration.ofMillis(2_500)); // below the outage limit: the session replays after it
            p.fault(FaultProxy::pass);
            long before = ranAt.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> ranAt.size() >= before + 200);
            calling.set(false);
            for (Thread t : callers) {
                t.join();
            }
            assertThat(gaveUp).as("calls held in the outage gave up at their deadline").isNotEmpty();
            // before: the callee counted a replayed call's deadline from when it arrived, and ran calls held
            // through the outage up to 1.5 s after their callers had given up
            // (the first calls of the outage did so by 1.5 s; the slack leaves room for a slow machine's transit)
            long slack = TimeUnit.MILLISECONDS.toNanos(800);
            assertThat(ranAt.entrySet()).allSatisfy(ran -> assertThat(ran.getValue() - deadlines.get(ran.getKey()))
                .as("call %d ran this long (ns) after its caller's deadline", ran.getKey()).isLessThan(slack));
            System.out.printf("RobustLinkTest: %d calls ran, %d gave up in a 2.5 s outage, none ran after its deadline%n",
                ranAt.size(), gaveUp.size());
        }
    }

    @Test
    void aCallWhoseDeadlinePassesWhileTheLinkRedialsSaysItWasNotSent() throws Exception {
        try (Pair p = new Pair(20_000, null)) {
            assertThat(p.counted.run(1)).isEqualTo(2);
            p.fault(FaultProxy::drop); // connections reset, redials refused
            await().atMost(Duration.ofSeconds(10)).until(() -> !p.linkFromA().isConnected());

            Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> io.jcircuit.Deadline.within(Duration.ofMillis(300), () -> p.counted.run(77)));
            p.fault(FaultProxy::pass);
            await().atMost(Duration.ofSeconds(10)).until(() -> p.linkFromA().isConnected());
            assertThat(p.counted.run(2)).isEqualTo(4); // anything replayed has arrived before this answer

            assertThat(p.callee.runs).as("the call never ran").doesNotContainKey(77L);
            assertThat(t).isInstanceOf(io.jcircuit.DeadlineExceededException.class).hasMessageContaining("it was not sent");
            // before: outcome unknown, as for a call that was sent, so a caller could not retry it safely
            assertThat(((io.jcircuit.DeadlineExceededException) t).outcomeUnknown()).as(t.getMessage()).isFalse();
        }
    }

    public interface AsyncCounted {
        java.util.concurrent.CompletableFuture<Long> run(long id);
    }

    @Test
    void anAsyncCallWhoseDeadlinePassesWhileTheLinkRedialsSaysItWasNotSent() throws Exception {
        try (Pair p = new Pair(20_000, null)) {
            ConcurrentHashMap<Long, Integer> runs = new ConcurrentHashMap<>();
            p.b.listen("async", AsyncCounted.class, id -> {
                runs.merge(id, 1, Integer::sum);
                return java.util.concurrent.CompletableFuture.completedFuture(id * 2);
            });
            AsyncCounted counted = p.a.worker(p.b.address()).dial("async", AsyncCounted.class);
            assertThat(counted.run(1).get(10, TimeUnit.SECONDS)).isEqualTo(2L);
            p.fault(FaultProxy::drop);
            await().atMost(Duration.ofSeconds(10)).until(() -> !p.linkFromA().isConnected());

            List<java.util.concurrent.Future<java.util.concurrent.CompletableFuture<Long>>> made = new ArrayList<>();
            try (var callers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (long id = 100; id < 116; id++) {
                    long call = id;
                    made.add(callers.submit(() -> io.jcircuit.Deadline.within(Duration.ofMillis(300), () -> counted.run(call))));
                }
            }
            List<Throwable> failures = new ArrayList<>();
            for (var f : made) {
                failures.add(org.assertj.core.api.Assertions.catchThrowable(() -> f.get().get(10, TimeUnit.SECONDS)));
            }
            p.fault(FaultProxy::pass);
            await().atMost(Duration.ofSeconds(10)).until(() -> p.linkFromA().isConnected());
            assertThat(counted.run(2).get(10, TimeUnit.SECONDS)).isEqualTo(4L);

            assertThat(runs.keySet()).as("none of them ran").containsOnly(1L, 2L);
            // before: the deadline thread usually failed them first, "waiting for the answer", outcome unknown
            assertThat(failures).hasSize(16).allSatisfy(t -> {
                Throwable cause = t instanceof java.util.concurrent.ExecutionException e ? e.getCause() : t;
                assertThat(cause).isInstanceOf(io.jcircuit.DeadlineExceededException.class);
                assertThat(((io.jcircuit.DeadlineExceededException) cause).outcomeUnknown()).as(cause.getMessage()).isFalse();
            });
        }
    }

    @Test
    void shouldDeclareThePeerDeadPastTheOutageLimitAndReleaseWhatItHeld(@TempDir Path dir) throws Exception {
        int outageLimitMs = 2_000;
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir, 0);
             Pair p = new Pair(outageLimitMs, zk.connectString())) {
            // b files an anchor, and holds a reference into a.
            p.b.anchors().file("/robust");
            Set<String> left = ConcurrentHashMap.newKeySet();
            var sub = p.a.anchors().subscribe("/robust", new Membership() {
                @Override
                public void joined(Entry entry) {
                }

                @Override
                public void left(Entry entry) {
                    left.add(entry.worker().toString());
                }
            });
            ConcurrentHashMap<String, Runnable> kept = new ConcurrentHashMap<>();
            long robustRevision;
            p.b.listen("holder", Holder.class, ref -> kept.put("ref", ref));
            p.a.worker(p.b.address()).dial("holder", Holder.class).keep(p.a.ref(Runnable.class, () -> { }));
            await().atMost(Duration.ofSeconds(10)).until(() -> p.a.activity().heldRemotely());

            Load load = new Load(p.counted::run, 4);
            try (load) {
                load.awaitMoreAnswers(200, Duration.ofSeconds(30));
                robustRevision = p.a.anchors().list("/robust").revision();
                long cutAt = System.nanoTime();
                p.fault(FaultProxy::blackhole);
                await().atMost(Duration.ofMillis(SILENCE_MS + outageLimitMs).plus(SLACK)).until(load::allDone);
                long detectedMs = TimeUnit.NANOSECONDS.toMillis(load.firstFailureNanos.get() - cutAt);
                System.out.printf("RobustLinkTest: blackholed for good, declared dead after %d ms (silence %d + outage limit %d)%n",
                    detectedMs, SILENCE_MS, outageLimitMs);
                assertThat(detectedMs).as("declared dead after silence + outage limit, not before")
                    .isGreaterThanOrEqualTo(outageLimitMs);
            }
            assertThat(load.failures).isNotEmpty().allSatisfy(t -> assertThat(t).isInstanceOf(WorkerDiedException.class));
            assertThat(load.failures).as("calls caught in flight cannot know whether they ran")
                .anySatisfy(t -> assertThat(((WorkerDiedException) t).outcomeUnknown()).isTrue());
            assertThat(p.callee.runs.values()).as("nothing ran twice").allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
            assertThat(p.callee.runs.keySet()).containsAll(load.answered);
            assertThat(p.linkFromAOrNull()).isNull();
            long before = robustRevision;
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(p.a.activity().heldRemotely()).as("the dead peer's reference is released").isFalse();
                // b is alive here (only its link to a is cut), so its entry files itself again as soon as
                // a removes it; a may or may not list the gap. Either way the directory has changed, and
                // nothing else touches it.
                assertThat(left.contains(p.b.id().toString()) || p.a.anchors().list("/robust").revision() > before)
                    .as("the dead peer's anchors are removed (left: %s)", left).isTrue();
            });
            sub.close();

            // The network heals; both runtimes were alive all along. The reference b kept into a was
            // released with the session, so it is gone: before, it still worked until a's collector took
            // the object, then failed with a CircuitException ("exports no object").
            p.fault(FaultProxy::pass);
            Runnable released = kept.get("ref");
            org.assertj.core.api.Assertions.assertThatThrownBy(released::run).isInstanceOf(WorkerDiedException.class)
                .hasMessageContaining("is gone").hasMessageContaining(p.a.id().toString())
                .satisfies(t -> assertThat(((WorkerDiedException) t).outcomeUnknown()).as("it was not sent").isFalse());
            // a service looked up by name outlives the session, its name keeps it at home
            assertThat(p.counted.run(21)).isEqualTo(42);
            // and a reference received again is a new one, which works
            AtomicInteger ran = new AtomicInteger();
            p.a.worker(p.b.address()).dial("holder", Holder.class).keep(p.a.ref(Runnable.class, ran::incrementAndGet));
            kept.get("ref").run();
            assertThat(ran).hasValue(1);
        }
    }

    /** What {@link CircuitRuntime} logs at INFO and above while open; the logger's level is put back at close. */
    static final class RuntimeLog implements AutoCloseable {
        private final Logger log = (Logger) LoggerFactory.getLogger(CircuitRuntime.class);
        private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
        private final Level level = log.getLevel();

        RuntimeLog() {
            lines.start();
            log.addAppender(lines);
            log.setLevel(Level.INFO);
        }

        /** Waits until a line that starts with {@code start} has been logged. */
        void awaitLine(String start, Duration within) {
            await().atMost(within).until(() -> {
                synchronized (lines) { // the appender adds under its own monitor
                    return lines.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith(start));
                }
            });
        }

        @Override
        public void close() {
            log.detachAppender(lines);
            log.setLevel(level);
        }
    }

    /** Answers at once, but the call with id 99, which waits until {@link #release} counts down. */
    static final class Held implements Counted {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public long run(long id) {
            if (id == 99) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            return id * 2;
        }
    }

    /**
     * README: "While ZooKeeper is away, calls and references keep working". Only b, a runtime no host
     * started, loses ZooKeeper: its ZooKeeper session expires and it leaves /worker while its link with a
     * is up, and it goes on answering. A blip on that link afterwards, far under the outage limit, is
     * ridden out like any other: the call in flight is answered, and the session stays. (Before, a
     * remembered b as gone for an outage limit once it left, and ended the session at the blip.)
     */
    @Test
    void aBlipAfterAConnectedPeerLostOnlyItsZooKeeperSessionIsRiddenOut(@TempDir Path dir) throws Exception {
        try (RuntimeLog log = new RuntimeLog();
             EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir, 0);
             FaultProxy zkForB = FaultProxy.start(new InetSocketAddress("127.0.0.1", zk.port()));
             Pair p = new Pair(20_000, c -> c.zookeeper(zk.connectString()),
                 c -> c.zookeeper("127.0.0.1:" + zkForB.port()).zookeeperSessionTimeoutMs(1_000))) {
            Held callee = new Held();
            p.b.listen("held", Counted.class, callee);
            Counted held = p.a.worker(p.b.address()).dial("held", Counted.class);
            assertThat(held.run(1)).isEqualTo(2);

            zkForB.blackhole(); // only b loses ZooKeeper; its session expires at the server
            // a's word that it saw b leave while the link was up: only then is the blip a test of anything
            log.awaitLine("worker " + p.b.id() + " left /worker while its link is up", Duration.ofSeconds(30));
            assertThat(held.run(3)).as("b answers after it left /worker").isEqualTo(6);
            Link link = p.linkFromA();
            long outages = link.outages();

            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread caller = Thread.ofVirtual().start(() -> {
                try {
                    outcome.set(held.run(99));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            assertThat(callee.entered.await(10, TimeUnit.SECONDS)).isTrue();
            p.fault(FaultProxy::drop); // connections reset, redials refused
            await().atMost(Duration.ofSeconds(5)).until(() -> link.outages() > outages);
            p.fault(FaultProxy::pass);
            callee.release.countDown();
            caller.join(Duration.ofSeconds(30));
            assertThat(outcome.get()).as("the call in flight across the blip, b alive throughout").isEqualTo(198L);
            assertThat(link.isOpen()).as("the same session: %s", link.closeReason()).isTrue();
            assertThat(p.a.anchors().list("/worker").entries()).as("b is still out of /worker")
                .noneMatch(e -> e.worker().equals(p.b.id()));
            zkForB.pass(); // so that b closes without waiting for ZooKeeper
        }
    }

    /**
     * The other side of that rule: b is cut off whole, its link and its ZooKeeper at once, as when its
     * machine dies. Its ZooKeeper session expires before a's link notices the silence, so a sees it leave
     * /worker while the link still counts as up, and hears nothing from it after. When the silence limit
     * then drops the connection, the session ends at once: it does not wait out the outage limit.
     */
    @Test
    void aPeerCutOffWholeThatLeftWorkerBeforeItsLinkFellSilentIsDeclaredDeadAtTheSilence(@TempDir Path dir) throws Exception {
        // Longer than b's ZooKeeper session, as the defaults are (5 s and 4 s). The session is not the
        // shortest there is (1 s): b's last heartbeats, sent just before the cut, must be read by a before
        // it learns that b left, however far behind a busy machine lets a's event loop fall.
        int silenceMs = 4_500;
        int sessionMs = 2_000;
        try (RuntimeLog log = new RuntimeLog();
             EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir, 0);
             FaultProxy zkForB = FaultProxy.start(new InetSocketAddress("127.0.0.1", zk.port()));
             Pair p = new Pair(20_000, c -> c.zookeeper(zk.connectString()).link().silenceLimitMs(silenceMs),
                 c -> c.zookeeper("127.0.0.1:" + zkForB.port()).zookeeperSessionTimeoutMs(sessionMs).link().silenceLimitMs(silenceMs))) {
            assertThat(p.counted.run(1)).isEqualTo(2);
            Link link = p.linkFromA();

            long cutAt = System.nanoTime();
            zkForB.blackhole();
            p.fault(FaultProxy::blackhole);
            log.awaitLine("worker " + p.b.id() + " left /worker while its link is up", Duration.ofSeconds(10));
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> p.counted.run(2));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
            assertThat(t).isInstanceOf(WorkerDiedException.class).hasMessageContaining("left /worker while out of reach");
            assertThat(link.outageLimitPassed()).isFalse();
            assertThat(tookMs).as("declared dead at the silence limit (%d ms), not the outage limit", silenceMs)
                .isLessThan(silenceMs + SLACK.toMillis());
            System.out.printf("RobustLinkTest: cut off whole, declared dead after %d ms (silence limit %d)%n", tookMs, silenceMs);
            zkForB.pass(); // so that b closes without waiting for ZooKeeper
        }
    }

    /**
     * The two sides' outage limits differ: a ends the session while b still rides the outage out. a's
     * next call opens a new session, and b must use it at once, both ways, and keep it when its old
     * session learns that a no longer knows it. (Before, b kept calling over the old, cut session, and
     * the old one's end released what a held over the new one and marked every reference from a lost.)
     */
    @Test
    void aNewSessionFromAPeerThatEndedTheOldOneCarriesTheCallsAndKeepsWhatItHolds() throws Exception {
        try (Pair p = new Pair(2_000, 60_000, null)) {
            ConcurrentHashMap<String, Runnable> kept = new ConcurrentHashMap<>();
            p.b.listen("holder", Holder.class, ref -> kept.put("ref", ref));
            p.b.listen("maker", Maker.class, () -> p.b.ref(Counted.class, p.callee));
            AtomicInteger ran = new AtomicInteger();
            Holder holder = p.a.worker(p.b.address()).dial("holder", Holder.class);
            Maker maker = p.a.worker(p.b.address()).dial("maker", Maker.class);
            holder.keep(p.a.ref(Runnable.class, ran::incrementAndGet));
            kept.get("ref").run();

            p.fault(FaultProxy::blackhole);
            await().atMost(Duration.ofMillis(SILENCE_MS + 2_000).plus(SLACK)).until(() -> p.linkFromAOrNull() == null);
            assertThat(p.b.links()).as("b still rides its outage out").hasSize(1);
            p.toB.pass(); // a reaches b again; b's redials to a stay cut
            assertThat(p.counted.run(2)).as("a call over the session a opens").isEqualTo(4);
            holder.keep(p.a.ref(Runnable.class, ran::incrementAndGet));
            Counted made = maker.make();
            io.jcircuit.Deadline.within(Duration.ofSeconds(10), () -> {
                kept.get("ref").run(); // b calls a back
                return null;
            });
            assertThat(ran).as("b's call back into a, over the new session").hasValue(2);

            p.toA.pass(); // b's old session, were it still there, would now hear that a no longer knows it
            await().atMost(Duration.ofSeconds(10)).until(() -> p.a.links().size() == 1 && p.b.links().size() == 1);
            assertThat(p.b.links().getFirst().isConnected()).isTrue();
            kept.get("ref").run();
            assertThat(ran).as("the reference b received over the new session still works").hasValue(3);
            assertThat(made.run(7)).as("a reference a received over the new session is still held at b").isEqualTo(14);
            holder.keep(p.a.ref(Runnable.class, ran::incrementAndGet));
            kept.get("ref").run();
            assertThat(ran).as("and a reference b receives later").hasValue(4);
        }
    }

    /**
     * A dial begun during an outage loses its handshake with the network, and fails only at its own
     * handshake timeout. A call made once the network is back, which joined that dial, dials again by
     * itself rather than fail with it: before, it failed with "no handshake within 5000 ms" (seen once in
     * CI, at the end of {@link #shouldDeclareThePeerDeadPastTheOutageLimitAndReleaseWhatItHeld}, most likely
     * a release that dialed the peer just declared dead: releases no longer dial).
     */
    @Test
    void aCallThatJoinedADialLostInAnOutageDialsAgainOnceTheNetworkIsBack() throws Exception {
        try (Pair p = new Pair(1_000, null)) {
            assertThat(p.counted.run(1)).isEqualTo(2);
            p.fault(FaultProxy::blackhole);
            await().atMost(Duration.ofMillis(SILENCE_MS + 1_000).plus(SLACK)).until(() -> p.linkFromAOrNull() == null);
            long accepted = p.toB.connectionsAccepted();
            long discarded = p.toB.bytesDiscarded();
            var lost = java.util.concurrent.CompletableFuture.supplyAsync(() -> p.counted.run(2),
                java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            // the new dial is through to b, and its HELLO was thrown away
            await().atMost(Duration.ofSeconds(10))
                .until(() -> p.toB.connectionsAccepted() > accepted && p.toB.bytesDiscarded() > discarded);
            p.fault(FaultProxy::pass);

            assertThat(p.counted.run(21)).as("a call on the healed network").isEqualTo(42);
            assertThat(lost).as("the call that began the lost dial").failsWithin(Duration.ofSeconds(30))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .havingCause().isInstanceOf(WorkerDiedException.class).withMessageContaining("no handshake within");
        }
    }
}
