package io.jcircuit.runtime;

import io.jcircuit.runtime.ops.Ops;
import io.jcircuit.test.FaultProxy;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The forwarding records of hot swaps across ZooKeeper outages that a {@link FaultProxy} gives one runtime
 * alone (the old worker of a swap), so that what the others do once ZooKeeper is back is done before that
 * runtime is back. In this package for the runtime's hooks for tests.
 */
@Tag("slow")
class ForwardingRecordOutageTest {

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

    private final List<CircuitRuntime> runtimes = new ArrayList<>();

    private CircuitRuntime start(RuntimeConfig config) {
        CircuitRuntime rt = CircuitRuntime.start(config);
        runtimes.add(rt);
        return rt;
    }

    @AfterEach
    void closeAll() {
        runtimes.forEach(CircuitRuntime::close);
    }

    /** The forwarding records and their index entries in the durable store. */
    private static List<String> records(CircuitRuntime rt) {
        List<String> paths = new ArrayList<>();
        rt.durable().listAll(ForwardChains.MOVED).entries().forEach(e -> paths.add(e.path()));
        rt.durable().listAll(ForwardChains.MOVED_TO).entries().forEach(e -> paths.add(e.path()));
        return paths;
    }

    /**
     * The replacement of a swap ends (as in a crash) while ZooKeeper is away for it, for its host and for its
     * old worker. Once ZooKeeper is back, the host's deletion of the records that lead to the replacement runs
     * first, and finds none (the old worker's record is not written yet); the old worker writes its record only
     * after. The record goes all the same: the host first removes the entries that the replacement left (its
     * session outlives it), and the old worker, once it has written the record, sees that the replacement has
     * ended and deletes it. Before, the record stayed until some host started again.
     */
    // Every runtime here tries a namespace operation once (zookeeperRetries(0)): what waits for ZooKeeper is what
    // the test is about, and each retry against the stopped server only added seconds to it (19.5 s -> 8.7 s).
    @Test
    void aRecordWrittenOnlyAfterTheRecordsThatLeadToItsEndedReplacementWereDeletedIsDeletedToo() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             FaultProxy cut = FaultProxy.start(new InetSocketAddress("127.0.0.1", zk.getPort()));
             AutoCloseable closedFirst = () -> runtimes.forEach(CircuitRuntime::close)) { // before their ZooKeeper goes
            CircuitRuntime old = start(RuntimeConfig.builder().zookeeper("127.0.0.1:" + cut.port())
                .zookeeperConnectTimeoutMs(1_000).zookeeperRetries(0).build());
            old.forwardingRecordsRetryFallback(Duration.ofMinutes(10)); // only a reconnection wakes it in time
            CircuitRuntime replacement = start(RuntimeConfig.builder().zookeeper(zk.getConnectString())
                .zookeeperConnectTimeoutMs(1_000).zookeeperRetries(0).zookeeperSessionTimeoutMs(60_000).build()); // its entries outlive it
            CircuitRuntime host = start(RuntimeConfig.builder().zookeeper(zk.getConnectString())
                .zookeeperConnectTimeoutMs(1_000).zookeeperRetries(0).build());
            host.forwardingRecordsRetryFallback(Duration.ofMinutes(10));
            old.listen("counter", Counter.class, new CounterImpl());
            Ops oldOps = replacement.dial(old.address(), Ops.SERVICE, Ops.class);
            oldOps.swapFreeze("counter", 5_000);
            Counter served = replacement.listen("counter", Counter.class, new CounterImpl());

            cut.drop(); // the old worker is away from ZooKeeper
            oldOps.swapForward("counter", served);
            assertThat(old.forwardingRecordsUnwritten()).as("the record waits for ZooKeeper").isEqualTo(1);
            await().until(old::forwardingRecordsWaiting);
            zk.stop(); // and the others too
            replacement.close(); // deletes nothing, and its entries stay: as a crash
            host.forgetForwardsTo(replacement.id()); // its host saw it end
            await().until(host::forwardingRecordsWaiting);

            zk.restart();
            await("the host's deletion, first").atMost(Duration.ofSeconds(30)).until(() -> host.forwardsToForget() == 0);
            assertThat(old.forwardingRecordsUnwritten()).as("still away").isEqualTo(1);
            cut.pass();
            await("the old worker's record, after").atMost(Duration.ofSeconds(30))
                .until(() -> old.forwardingRecordsUnwritten() == 0);

            assertThat(records(host)).as("it led only to the ended replacement").isEmpty();
        }
    }
}
