package io.jcircuit.anchor;

import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.Subscription;
import io.jcircuit.WorkerId;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** Leaks, leftovers and bad input around the namespace. */
class HardeningTest {

    private static TestingServer zk;
    private static Namespace ns;
    private static NamespaceAnchors anchors;

    @BeforeAll
    static void start() throws Exception {
        zk = new TestingServer(true);
        ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
        anchors = new NamespaceAnchors(ns, Fixture.self(WorkerId.random(), 1), e -> null);
    }

    @AfterAll
    static void stop() throws Exception {
        anchors.close();
        ns.close();
        zk.close();
    }

    /** The client's persistent recursive watches, read from ZooKeeper's watch manager. */
    @SuppressWarnings("unchecked")
    private static Map<String, Set<Watcher>> recursiveWatches(Namespace n) throws Exception {
        ZooKeeper z = n.client().getZookeeperClient().getZooKeeper();
        Method m = ZooKeeper.class.getDeclaredMethod("getWatchManager");
        m.setAccessible(true);
        Object manager = m.invoke(z);
        Method g = manager.getClass().getDeclaredMethod("getPersistentRecursiveWatches");
        g.setAccessible(true);
        return (Map<String, Set<Watcher>>) g.invoke(manager);
    }

    @Test
    void awaitChangeAndClosedSubscriptionsLeaveNoWatchBehind() throws Exception {
        String dir = Fixture.freshDir("leak");
        for (int i = 0; i < 20; i++) {
            anchors.awaitChange(dir, 0, Duration.ofMillis(1));
        }
        Subscription s = anchors.watch(dir, l -> { });
        Subscription m = anchors.subscribe(dir, new io.jcircuit.Membership() {
            @Override
            public void joined(Entry e) {
            }

            @Override
            public void left(Entry e) {
            }
        });
        assertThat(recursiveWatches(ns).get("/jcircuit/anchors" + dir)).hasSize(2);
        s.close();
        m.close();
        assertThat(recursiveWatches(ns).getOrDefault("/jcircuit/anchors" + dir, Set.of())).isEmpty();
    }

    @Test
    void noListenerCallAfterClose() throws Exception {
        String dir = Fixture.freshDir("closed");
        BlockingQueue<Listing<Entry>> seen = new LinkedBlockingQueue<>();
        Subscription s = anchors.watch(dir, seen::add);
        assertThat(seen.poll(10, TimeUnit.SECONDS)).isNotNull();
        s.close();
        WorkerId w = WorkerId.random();
        try (EntryNode n = ns.file(dir, w.toString(), Fixture.data(dir, w))) {
            // a fresh waiter sees the change, so the closed one would have been told by now
            assertThat(anchors.awaitChange(dir, 0, Duration.ofSeconds(10)).entries()).hasSize(1);
        }
        assertThat(seen).isEmpty();
    }

    @Test
    void directoriesLeftByACrashedRuntimeAreNotListed() throws Exception {
        String dir = Fixture.freshDir("stale");
        try (Namespace other = Namespace.connect(NamespaceConfig.of(zk.getConnectString()))) {
            WorkerId w = WorkerId.random();
            other.file(dir + "/a/b", w.toString(), Fixture.data(dir + "/a/b", w)); // never unfiled
            assertThat(anchors.list("/").directories()).contains(dir);
        } // the session ends: its entry goes, its container directories stay behind for a while
        assertThat(ns.client().checkExists().forPath(Namespace.anchorZnode(dir + "/a/b"))).as("left behind").isNotNull();
        assertThat(anchors.list("/").directories()).doesNotContain(dir);
        Listing<Entry> stale = anchors.list(dir);
        assertThat(stale.isEmpty()).isTrue();
        assertThat(stale.revision()).isZero();
        assertThat(anchors.listAll("/").directories()).noneMatch(d -> d.startsWith(dir));
    }

    @Test
    void oversizedOrNullMetadataIsRefusedClearly() {
        String dir = Fixture.freshDir("big");
        assertThatThrownBy(() -> anchors.file(dir, Map.of("k", "x".repeat(100_000))))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes");
        Map<String, String> withNull = new java.util.HashMap<>();
        withNull.put("k", null);
        assertThatThrownBy(() -> anchors.file(dir, withNull))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
        assertThat(ns.isConnected()).isTrue();
        assertThat(anchors.list(dir).isEmpty()).isTrue();
    }

    @Test
    void aNullDurableValueOrPathOrTimeoutIsRefusedPlainly() {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String path = Fixture.freshDir("nullvalue");
        // stored, a null was listed, yet read back as nothing
        assertThatThrownBy(() -> durable.put(path, null)).isInstanceOf(NullPointerException.class)
            .hasMessageContaining("must not be null; delete(path) removes one");
        assertThat(durable.list("/").entries()).extracting(io.jcircuit.Stored::path).doesNotContain(path);
        assertThatThrownBy(() -> anchors.file(null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("it is null");
        assertThatThrownBy(() -> durable.awaitChange("/", 0, null)).isInstanceOf(NullPointerException.class).hasMessageContaining("timeout");
    }

    @Test
    void refilingUpdatesTheEntryBeforeReturning() {
        String dir = Fixture.freshDir("refile");
        var a = anchors.file(dir, Map.of("v", "1"));
        anchors.file(dir, Map.of("v", "2"));
        assertThat(anchors.list(dir).entries()).singleElement()
            .satisfies(e -> assertThat(e.metadata()).containsEntry("v", "2"));
        a.close();
    }

    @Test
    void aHostNameHeldByAHostThatDiedOnThisMachineIsTakenOnceItsSessionEnds() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Entry crashed = new Entry("/worker/x", WorkerId.random(), new io.jcircuit.Address("127.0.0.1", 2), "thishost",
            gone.pid(), java.time.Instant.now(), java.util.Map.of());
        WorkerId restarted = WorkerId.random();
        Entry me = new Entry("/worker/" + restarted, restarted, new io.jcircuit.Address("127.0.0.1", 3), "thishost",
            ProcessHandle.current().pid(), java.time.Instant.now(), java.util.Map.of());
        Namespace holder = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
        holder.fileHost("crashed", crashed); // its session outlives its process, as a killed host's does
        java.util.concurrent.atomic.AtomicReference<Object> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread taking = Thread.ofPlatform().start(() -> {
            try {
                outcome.set(ns.fileHost("crashed", me));
            } catch (RuntimeException e) {
                outcome.set(e);
            }
        });
        // before, the name was refused at once; now the new host waits for the dead one's session
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
            .until(() -> java.util.Arrays.stream(taking.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitGone")));
        holder.close(); // the session ends
        assertThat(taking.join(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(outcome.get()).isInstanceOf(EntryNode.class);
        assertThat(ns.listAnchors("/host/crashed", false).entries()).extracting(Entry::worker).containsExactly(restarted);
        ((EntryNode) outcome.get()).close();
    }

    @Test
    void aHostNameIsHeldByOneHostAtATime() throws Exception {
        try (Namespace other = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
             EntryNode first = ns.fileHost("clash", Fixture.self(WorkerId.random(), 2))) {
            assertThatThrownBy(() -> other.fileHost("clash", Fixture.self(WorkerId.random(), 3)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("'clash' is taken by the running host");
        }
    }

    @Test
    void malformedConnectStringsAreRefusedAtOnce() {
        assertThatThrownBy(() -> NamespaceConfig.of("localhost:notaport")).hasMessageContaining("'localhost:notaport'");
        assertThatThrownBy(() -> NamespaceConfig.of("localhost:99999")).hasMessageContaining("1 to 65535");
        assertThatThrownBy(() -> NamespaceConfig.of("zk1:2181,zk2")).hasMessageContaining("'zk2'");
        assertThat(NamespaceConfig.of("zk1:2181,zk2:2182/chroot").connectString()).isEqualTo("zk1:2181,zk2:2182/chroot");
    }

    @Test
    void closingWhileZooKeeperIsDownDoesNotWait() throws Exception {
        try (TestingServer own = new TestingServer(true);
             Namespace n = Namespace.connect(NamespaceConfig.of(own.getConnectString()).withConnectTimeoutMs(1000))) {
            NamespaceAnchors a = new NamespaceAnchors(n, Fixture.self(WorkerId.random(), 4), e -> null);
            a.file("/down/one");
            a.file("/down/two");
            own.stop();
            org.awaitility.Awaitility.await().until(() -> !n.isConnected());
            assertTimeoutPreemptively(Duration.ofSeconds(3), a::close);
        }
    }

    @Test
    void aConnectFileLeftByAKilledServerIsIgnored(@TempDir Path state) throws Exception {
        Path dir = EmbeddedZooKeeper.dirOf(state);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("connect"), "127.0.0.1:2181\n");
        Files.writeString(dir.resolve("lock"), "");
        assertThat(EmbeddedZooKeeper.connectStringIn(state)).isEmpty();
        assertThat(new ZooKeeperLocator(null, Map.of(), state).describe()).contains("absent or stale");
    }
}
