package io.jcircuit.anchor;

import io.jcircuit.Address;
import io.jcircuit.Anchor;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import io.jcircuit.test.FaultProxy;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A ZooKeeper that stops answering without closing anything (paused, or cut off without a reset), which
 * the client takes for connected until two thirds of its session timeout have passed: a proxy in front of
 * a real server that forwards nothing.
 */
@Timeout(120)
class UnansweringZooKeeperTest {

    /**
     * Filings of other directories wait for ZooKeeper side by side, not one behind the other, and closing an
     * anchor meanwhile returns within its bound rather than behind them (before, four filings failed after 4,
     * 8, 12 and 16 s, and the close returned after the last). Once ZooKeeper answers again the closed entry
     * is gone.
     */
    @Test
    void filingsAndAClosedAnchorDoNotWaitBehindEachOtherWhileZooKeeperDoesNotAnswer() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             FaultProxy cut = FaultProxy.start(new InetSocketAddress("127.0.0.1", zk.getPort()));
             Namespace ns = Namespace.connect(NamespaceConfig.of("127.0.0.1:" + cut.port())
                 .withSessionTimeoutMs(6_000).withConnectTimeoutMs(2_000).withRetries(1));
             ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            WorkerId me = WorkerId.random();
            Entry self = new Entry("/worker/" + me, me, new Address("127.0.0.1", 5005), "testhost", 4242,
                Instant.ofEpochMilli(1_700_000_000_000L), Map.of());
            NamespaceAnchors anchors = new NamespaceAnchors(ns, self, e -> null);
            Anchor closing = anchors.file("/unanswered/closing");

            cut.blackhole();
            List<Future<Anchor>> filings = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String dir = "/unanswered/filing-" + i;
                filings.add(callers.submit(() -> anchors.file(dir)));
            }
            assertThat(ns.isConnected()).as("the client has not noticed yet").isTrue();
            closing.close();
            assertThat(filings).as("filings still waiting for ZooKeeper when the close returned")
                .noneMatch(Future::isDone);

            for (Future<Anchor> f : filings) {
                assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(NamespaceException.class);
            }
            cut.pass();
            await("the closed entry to go").atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> anchors.list("/unanswered/closing").entries().isEmpty());
            anchors.close();
        }
    }
}
