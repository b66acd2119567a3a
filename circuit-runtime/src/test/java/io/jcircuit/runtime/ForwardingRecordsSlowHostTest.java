package io.jcircuit.runtime;

import io.jcircuit.ExecSpec;
import io.jcircuit.Proc;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.NamespaceAnchors;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import io.jcircuit.runtime.host.SpawnSpec;
import io.jcircuit.runtime.host.SpawnedWorker;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The forwarding records of hot swaps when a host is slow to say which workers it runs: what only the
 * hosts can tell (whether a worker with no {@code /worker} entry and no link has ended) is asked of them
 * without the records' lock, and of all of them at once.
 */
@Timeout(120)
class ForwardingRecordsSlowHostTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    /** A host daemon's service that takes the question of which workers it runs, and answers only once released: none. */
    static final class SilentHost implements HostService {
        final AtomicInteger asked = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public Set<WorkerId> running(Set<WorkerId> workers) {
            asked.incrementAndGet();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Set.of();
        }

        @Override
        public List<SpawnedWorker> workers() {
            throw new UnsupportedOperationException("a stand-in host");
        }

        @Override
        public SpawnedWorker spawn(SpawnSpec spec) {
            throw new UnsupportedOperationException("a stand-in host");
        }

        @Override
        public boolean offerJar(JarRef ref, JarSource source) {
            throw new UnsupportedOperationException("a stand-in host");
        }

        @Override
        public Proc exec(ExecSpec spec) {
            throw new UnsupportedOperationException("a stand-in host");
        }

        @Override
        public boolean kill(WorkerId worker) {
            throw new UnsupportedOperationException("a stand-in host");
        }

        @Override
        public List<String> workerFile(WorkerId worker, String name, int lines) {
            throw new UnsupportedOperationException("a stand-in host");
        }

        @Override
        public void stop() {
            throw new UnsupportedOperationException("a stand-in host");
        }
    }

    /** Files {@code rt} as the host daemon {@code name}, serving {@code host}. */
    private static void fileAsHost(CircuitRuntime rt, String name, SilentHost host) {
        rt.listenOwn(HostService.SERVICE, HostService.class, host);
        ((NamespaceAnchors) rt.anchors()).fileAsHost(name, Map.of(HostService.ROLE_KEY, HostService.ROLE_HOST));
    }

    /** Writes a forwarding record of {@code old}'s export 1 that points at {@code to}'s export 1, with its index entry. */
    private static String record(CircuitRuntime rt, WorkerId old, WorkerId to) {
        String path = ForwardChains.recordPath(old, 1);
        rt.durable().putBytes(ForwardChains.indexPath(to, 1, old, 1), ForwardChains.indexValue(path));
        rt.durable().put(path, "the replacement");
        return path;
    }

    private static List<String> records(CircuitRuntime rt) {
        List<String> paths = new ArrayList<>();
        rt.durable().listAll(ForwardChains.MOVED).entries().forEach(e -> paths.add(e.path()));
        rt.durable().listAll(ForwardChains.MOVED_TO).entries().forEach(e -> paths.add(e.path()));
        return paths;
    }

    /**
     * A sweep for the records of ended workers asks the hosts about a worker that ended unseen, and two hosts
     * do not answer. Both are asked at once, and while they are, a host told of another worker's end deletes
     * the record that led to it. Before, the hosts were asked one after the other while the records' lock was
     * held: the second host only after the first gave up, and the deletion only after both.
     */
    @Test
    void shouldDeleteAnotherWorkersRecordsWhileTheHostsAreStillAskedAboutAWorkerThatEndedUnseen() throws Exception {
        SilentHost first = new SilentHost();
        SilentHost second = new SilentHost();
        try (TestingServer zk = new TestingServer(true)) {
            try {
                sweepAndTellWhileTheHostsAreSilent(zk.getConnectString(), first, second);
            } finally {
                first.release.countDown();
                second.release.countDown();
                runtimes.closeAll(); // before their ZooKeeper goes
            }
        }
    }

    private void sweepAndTellWhileTheHostsAreSilent(String zk, SilentHost first, SilentHost second) {
        CircuitRuntime host = runtimes.start(b -> b.zookeeper(zk));
        CircuitRuntime live = runtimes.start(b -> b.zookeeper(zk)); // an old worker serving on
        fileAsHost(runtimes.start(b -> b.zookeeper(zk)), "silent-1", first);
        fileAsHost(runtimes.start(b -> b.zookeeper(zk)), "silent-2", second);
        host.hostsAskLimit(Duration.ofMinutes(5)); // the ask lasts until the stand-ins answer
        WorkerId unseenOld = WorkerId.random();
        WorkerId unseen = WorkerId.random(); // ended while ZooKeeper was away, say: no entry, no link, no host
        WorkerId told = WorkerId.random(); // ended; its host is told
        String unseenRecord = record(host, unseenOld, unseen);
        String toldRecord = record(host, live.id(), told);

        Thread.ofVirtual().start(host::forgetForwardsToEndedWorkers);
        await("both hosts asked at once").until(() -> first.asked.get() >= 1 && second.asked.get() >= 1);
        Thread.ofVirtual().start(() -> host.forgetForwardsTo(told));

        await("the told worker's record deleted").until(() -> !records(host).contains(toldRecord));
        assertThat(host.forwardsToForget()).as("the sweep, still asking the hosts").isPositive();
        assertThat(records(host)).as("the unseen worker's record, kept until the hosts answer").contains(unseenRecord);

        first.release.countDown();
        second.release.countDown();
        await().until(() -> host.forwardsToForget() == 0);
        assertThat(records(host)).as("every host said it runs none of them").isEmpty();
    }

    /**
     * A host of a build without {@code HostService.running} answers at once that it has no such method (as
     * the Dispatcher words it): the sweep takes it for a host that cannot say which workers it runs, keeps
     * the record that leads to the worker asked about, as that host may run it, and is done without waiting
     * for the ask's limit. It asks again later, and once that host has gone the record goes.
     */
    @Test
    void aHostOfAnOlderBuildWithoutRunningCountsAsAHostThatCannotSay() throws Exception {
        try (TestingServer zk = new TestingServer(true)) {
            try {
                CircuitRuntime rt = runtimes.start(b -> b.zookeeper(zk.getConnectString()));
                CircuitRuntime older = runtimes.start(b -> b.zookeeper(zk.getConnectString()));
                AtomicInteger refused = new AtomicInteger();
                older.intercept(new io.jcircuit.CallInterceptor() {
                    @Override
                    public Object incoming(CallInfo call, Map<String, String> context, Proceed proceed) throws Throwable {
                        if (call.method().startsWith("HostService.running(")) {
                            refused.incrementAndGet();
                            throw new io.jcircuit.CircuitException("object #2 on worker " + older.id()
                                + " (io.jcircuit.runtime.host.HostService) has no method running(java.util.Set)");
                        }
                        return proceed.proceed();
                    }
                });
                SilentHost stub = new SilentHost();
                fileAsHost(older, "older", stub);
                rt.hostsAskLimit(Duration.ofMinutes(5)); // a host that never answered would hold the sweep that long
                rt.forwardingRecordsRetryFallback(Duration.ofMillis(200)); // asked again this often
                String kept = record(rt, WorkerId.random(), WorkerId.random()); // a worker with no sign of life

                rt.forgetForwardsToEndedWorkers();
                await().until(() -> refused.get() >= 2);
                assertThat(stub.asked.get()).isZero();
                assertThat(records(rt)).as("the older host may run the worker: asked again, not taken for gone").contains(kept);

                // the host that could not say is gone: asked again, the other hosts (none) run it, and its records go.
                // Before, they stayed until a host daemon started.
                older.close();
                await().atMost(Duration.ofSeconds(30)).until(() -> records(rt), List::isEmpty);
                await().until(() -> rt.forwardsToForget() == 0);
            } finally {
                runtimes.closeAll(); // before their ZooKeeper goes
            }
        }
    }
}
