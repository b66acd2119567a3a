package io.jcircuit.anchor;

import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

/** What the namespace does when ZooKeeper is missing, restarts, or expires the session. */
class OutageTest {

    @Test
    void aZooKeeperThatIsDownAtStartGivesAClearErrorWithinTheBound() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = s.getLocalPort();
        }
        String connect = "127.0.0.1:" + port;
        assertTimeoutPreemptively(Duration.ofSeconds(20), () ->
            assertThatThrownBy(() -> Namespace.connect(NamespaceConfig.of(connect).withConnectTimeoutMs(1000)))
                .isInstanceOf(NamespaceException.class)
                .hasMessageContaining(connect)
                .hasMessageContaining("within 1000 ms"));
    }

    /**
     * How many times an operation is tried again while the connection is down is the configuration's: a test
     * that stops ZooKeeper gives its runtimes fewer. Before, every client was tried again 3 times whatever it said.
     */
    @Test
    void anOperationIsTriedAgainAsOftenAsTheConfigurationSays() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace byDefault = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
             Namespace once = Namespace.connect(NamespaceConfig.of(zk.getConnectString()).withRetries(0))) {
            assertThat(triesAgain(byDefault)).isEqualTo(NamespaceConfig.DEFAULT_RETRIES).isEqualTo(3);
            assertThat(triesAgain(once)).isZero();
        }
        assertThatThrownBy(() -> NamespaceConfig.of("127.0.0.1:2181").withRetries(-1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retries=-1 must be from 0 to 29");
        assertThatThrownBy(() -> NamespaceConfig.of("127.0.0.1:2181").withRetries(30))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retries=30");
    }

    /** How many times the client of {@code ns} tries a failed operation again (its retry policy, asked without sleeping). */
    private static int triesAgain(Namespace ns) {
        org.apache.curator.RetryPolicy policy = ns.client().getZookeeperClient().getRetryPolicy();
        int n = 0;
        while (n <= NamespaceConfig.MOST_RETRIES && policy.allowRetry(n, 0, (time, unit) -> { })) {
            n++;
        }
        return n;
    }

    @Test
    void aNewSessionAfterExpiryFilesTheEntriesAgain() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()))) {
            WorkerId me = WorkerId.random();
            NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(me, 5001), e -> null);
            anchors.file("/expiry/svc");
            long oldSession = sessionOf(ns);
            assertThat(ownerOf(ns, "/expiry/svc/" + me)).isEqualTo(oldSession);

            ns.client().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                long now = sessionOf(ns);
                assertThat(now).isNotEqualTo(oldSession);
                assertThat(ownerOf(ns, "/expiry/svc/" + me)).isEqualTo(now);
                assertThat(ownerOf(ns, "/worker/" + me)).isEqualTo(now);
            });
            assertThat(anchors.list("/expiry/svc").entries()).extracting(Entry::worker).containsExactly(me);
            anchors.close();
            assertThat(anchors.list("/expiry").isEmpty()).isTrue();
        }
    }

    @Test
    void anEntryDeletedAgainAndAgainWhileItIsFiledAgainEndsUpFiled() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
             Namespace peer = Namespace.connect(NamespaceConfig.of(zk.getConnectString()))) {
            WorkerId me = WorkerId.random();
            NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(me, 5003), e -> null);
            anchors.file("/contested/svc");
            String znode = Namespace.anchorZnode("/contested/svc/" + me);

            // a peer that declared this runtime dead removes its entries, as the runtime files them again;
            // before, a removal while an attempt ran was dropped, and the entry stayed away for good
            for (int i = 0; i < 30; i++) {
                java.util.concurrent.CountDownLatch deleted = new java.util.concurrent.CountDownLatch(1);
                org.apache.zookeeper.Watcher deleteOnSight = e -> {
                    try {
                        peer.client().delete().quietly().forPath(znode); // at once, as the entry appears
                    } catch (Exception ex) {
                        throw new IllegalStateException(ex);
                    }
                    deleted.countDown();
                };
                if (peer.client().checkExists().usingWatcher(deleteOnSight).forPath(znode) != null) {
                    peer.client().delete().quietly().forPath(znode); // there now: the watcher fires on its deletion
                }
                assertThat(deleted.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ownerOf(ns, "/contested/svc/" + me))
                .isEqualTo(sessionOf(ns)));
            anchors.close();
        }
    }

    /**
     * Watches closed as their namespace closes ({@link Namespace#beginClose}, as a runtime's close does)
     * go with the session and ask nothing of ZooKeeper. With ZooKeeper just gone, each removal waited
     * for the client's next attempt to connect (up to a second), or retried for seconds while the client
     * still took itself for connected: a runtime's close took 1.5 to 6 s.
     */
    @Test
    void watchesClosedAsTheNamespaceClosesWaitForNoServer() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()))) {
            java.util.List<DirWatch> watches = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                watches.add(ns.watchAnchors(Fixture.freshDir("closing"), () -> { }));
            }
            zk.stop();

            ns.beginClose();
            long start = System.nanoTime();
            watches.forEach(DirWatch::close);

            assertThat((System.nanoTime() - start) / 1_000_000).as("ms to close 5 watches").isLessThan(100);
        }
    }

    @Test
    void whileZooKeeperIsDownOperationsFailClearlyAndEntriesComeBackWithIt() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()).withConnectTimeoutMs(1000))) {
            WorkerId me = WorkerId.random();
            NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(me, 5002), e -> null);
            anchors.file("/restart/svc");
            NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
            durable.putBytes("/restart/kept", new byte[] {42});

            zk.stop();
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                assertThatThrownBy(() -> anchors.list("/restart/svc"))
                    .isInstanceOf(NamespaceException.class)
                    .hasMessageContaining(zk.getConnectString())
                    .hasMessageContaining("unreachable"));
            // filing and watching name the user's path, as listing does, not the node in ZooKeeper (a probe found
            // "cannot file /anchors/p2/late/R…" and "cannot watch /anchors/p2")
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                assertThatThrownBy(() -> anchors.file("/restart/late"))
                    .isInstanceOf(NamespaceException.class)
                    .hasMessageContaining("cannot file /restart/late/" + me).hasMessageNotContaining("/anchors"));
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                assertThatThrownBy(() -> anchors.watch("/restart", l -> { }))
                    .isInstanceOf(NamespaceException.class)
                    .hasMessageContaining("cannot watch /restart").hasMessageNotContaining("/anchors"));

            zk.restart();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                assertThat(anchors.list("/restart/svc").entries()).extracting(Entry::worker).containsExactly(me));
            assertThat(durable.getBytes("/restart/kept")).hasValueSatisfying(v -> assertThat(v).containsExactly(42));
            anchors.close();
        }
    }

    /**
     * A wait for a change while ZooKeeper is away ends by its timeout (with a second's grace), not after the
     * watch's and the listing's retries: a probe's 5 s wait took 15.7 s. Here the retries alone would take 12 s.
     */
    @Test
    void aWaitForAChangeWhileZooKeeperIsAwayEndsByItsTimeout() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()))) {
            NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(WorkerId.random(), 5006), e -> null);
            zk.stop();
            await().until(() -> !ns.isConnected());
            assertTimeoutPreemptively(Duration.ofSeconds(8), () ->
                assertThatThrownBy(() -> anchors.awaitChange("/waiting", 0, Duration.ofSeconds(2)))
                    .isInstanceOf(NamespaceException.class)
                    .hasMessageContaining(zk.getConnectString()).hasMessageContaining("/waiting"));
            anchors.close();
        }
    }

    /**
     * Anchor's javadoc: closing removes the entry. Closed while ZooKeeper is away for a moment, it was
     * only let go, "to go with the session"; but the session outlives a short outage, so the entry of
     * an anchor closed (or withdrawn by a drain) stayed filed, and found, for as long as the runtime lived.
     */
    @Test
    void anAnchorClosedWhileZooKeeperIsAwayForAMomentDoesNotStayFiled() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()).withConnectTimeoutMs(1000))) {
            WorkerId me = WorkerId.random();
            NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(me, 5003), e -> null);
            io.jcircuit.Anchor closed = anchors.file("/withdrawn/svc");
            anchors.file("/withdrawn/drained");
            long session = sessionOf(ns);

            zk.stop();
            await().until(() -> !ns.isConnected());
            closed.close(); // both return while ZooKeeper is away: it comes back only after them
            assertThat(anchors.withdraw()).containsExactly("/withdrawn/drained");
            assertThat(ns.isConnected()).as("still away: the removals are left for the reconnect").isFalse();
            zk.restart();
            await().atMost(Duration.ofSeconds(30)).until(ns::isConnected);
            assertThat(sessionOf(ns)).as("the same session").isEqualTo(session);

            await("the closed and the withdrawn entries to go").atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> {
                assertThat(anchors.list("/withdrawn/svc").entries()).isEmpty();
                assertThat(anchors.list("/withdrawn/drained").entries()).isEmpty();
                assertThat(anchors.list("/withdrawn").isEmpty()).as("their directories pruned").isTrue();
            });
            assertThat(anchors.list("/worker").entries()).extracting(Entry::worker).as("the runtime itself stays filed").contains(me);
            anchors.close();
        }
    }

    private static long sessionOf(Namespace ns) throws Exception {
        return ns.client().getZookeeperClient().getZooKeeper().getSessionId();
    }

    private static long ownerOf(Namespace ns, String path) throws Exception {
        Stat st = ns.client().checkExists().forPath(Namespace.anchorZnode(path));
        return st == null ? -1 : st.getEphemeralOwner();
    }
}
