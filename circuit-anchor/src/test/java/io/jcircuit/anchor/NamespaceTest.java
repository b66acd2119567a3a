package io.jcircuit.anchor;

import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.Membership;
import io.jcircuit.Stored;
import io.jcircuit.Subscription;
import io.jcircuit.WorkerId;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Anchors and the durable store against one real ZooKeeper server shared by the tests of this class. */
class NamespaceTest {

    private static TestingServer zk;
    private static Namespace ns;
    private static NamespaceAnchors anchors;
    private static WorkerId me = WorkerId.random();

    @BeforeAll
    static void start() throws Exception {
        zk = new TestingServer(true);
        ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
        anchors = new NamespaceAnchors(ns, Fixture.self(me, 5000), e -> null);
    }

    @AfterAll
    static void stop() throws Exception {
        anchors.close();
        ns.close();
        zk.close();
    }

    @Test
    void aRuntimeIsFiledUnderWorker() {
        Listing<Entry> workers = anchors.list("/worker");
        assertThat(workers.entries()).extracting(Entry::worker).contains(me);
        Entry e = workers.entries().stream().filter(x -> x.worker().equals(me)).findFirst().orElseThrow();
        assertThat(e.path()).isEqualTo("/worker/" + me);
        assertThat(e.address().port()).isEqualTo(5000);
        assertThat(e.host()).isEqualTo("testhost");
        assertThat(e.pid()).isEqualTo(4242);
    }

    @Test
    void hostsAreFiledInTheirOwnDirectory() {
        WorkerId daemon = WorkerId.random();
        try (EntryNode h = ns.fileHost("node-7", Fixture.self(daemon, 6000))) {
            assertThat(anchors.list("/host").directories()).contains("/host/node-7");
            assertThat(anchors.list("/host/node-7").entries()).singleElement().satisfies(e -> {
                assertThat(e.path()).isEqualTo("/host/node-7/" + daemon);
                assertThat(e.metadata()).containsEntry("role", "host");
                assertThat(e.worker()).isEqualTo(daemon);
            });
        }
        assertThat(anchors.list("/host/node-7").isEmpty()).isTrue();
        assertThatThrownBy(() -> ns.fileHost("a/b", Fixture.self(daemon, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ns.fileHost(daemon.toString(), Fixture.self(daemon, 1))).hasMessageContaining("worker id");
    }

    @Test
    void twoHostsFilingOneNameAtOnceDoNotBothGetIt() throws Exception {
        // from the same machine (each with its own process, still running): neither is a crashed holder
        List<String> doubled = new java.util.ArrayList<>();
        try (var together = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int round = 0; round < 20; round++) {
                String name = "same-" + round;
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
                List<java.util.concurrent.Future<EntryNode>> filed = java.util.stream.Stream.of(WorkerId.random(), WorkerId.random())
                    .map(id -> together.submit(() -> {
                        start.await();
                        try {
                            return ns.fileHost(name, Fixture.self(id, 6000));
                        } catch (IllegalStateException taken) {
                            assertThat(taken).hasMessageContaining("is taken by the running host");
                            return null;
                        }
                    })).toList();
                List<EntryNode> got = new java.util.ArrayList<>();
                for (var f : filed) {
                    EntryNode n = f.get(30, TimeUnit.SECONDS);
                    if (n != null) {
                        got.add(n);
                    }
                }
                if (got.size() != 1) {
                    doubled.add(name + " taken by " + got.size());
                }
                got.forEach(EntryNode::close);
            }
        }
        assertThat(doubled).as("names not taken by exactly one of two hosts filing at once").isEmpty();
    }

    @Test
    void aDeadWorkersEntriesCanBeRemovedAtOnce() throws Exception {
        WorkerId dead = WorkerId.random();
        String dir = Fixture.freshDir("dead");
        for (String d : List.of(dir + "/a", dir + "/b")) { // raw nodes: nobody keeps them filed, as for a dead worker
            ns.client().create().creatingParentContainersIfNeeded().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL)
                .forPath(Namespace.anchorZnode(d + "/" + dead), Fixture.data(d, dead));
        }
        assertThat(ns.removeEntriesOf(dead)).isEqualTo(2);
        assertThat(anchors.listAll(dir).isEmpty()).isTrue();
    }

    @Test
    void filingCreatesDirectoriesAndUnfilingRemovesThem() throws Exception {
        String top = Fixture.freshDir("file");
        var anchor = anchors.file(top + "/deep/svc", Map.of("role", "mapper"));
        assertThat(anchor.path()).isEqualTo(top + "/deep/svc/" + me);
        assertThat(anchors.filed()).contains(top + "/deep/svc");

        Listing<Entry> svc = anchors.list(top + "/deep/svc");
        assertThat(svc.entries()).singleElement().satisfies(e -> {
            assertThat(e.worker()).isEqualTo(me);
            assertThat(e.metadata()).containsEntry("role", "mapper");
            assertThat(e.dir()).isEqualTo(top + "/deep/svc");
        });
        assertThat(anchors.list(top).directories()).containsExactly(top + "/deep");
        assertThat(anchors.list("/").directories()).contains(top, "/worker");
        Listing<Entry> all = anchors.listAll(top);
        assertThat(all.entries()).extracting(Entry::path).containsExactly(top + "/deep/svc/" + me);
        assertThat(all.directories()).containsExactly(top + "/deep", top + "/deep/svc");

        anchor.close();
        assertThat(anchors.list(top).isEmpty()).isTrue();
        assertThat(anchors.list("/").directories()).doesNotContain(top);
        assertThat(ns.client().checkExists().forPath(Namespace.anchorZnode(top))).as("pruned znode").isNull();
        assertThat(anchors.filed()).doesNotContain(top + "/deep/svc");
    }

    @Test
    void filingTwiceReplacesTheMetadata() {
        String dir = Fixture.freshDir("twice");
        var a = anchors.file(dir, Map.of("v", "1"));
        var b = anchors.file(dir, Map.of("v", "2"));
        assertThat(b).isSameAs(a);
        await().untilAsserted(() -> assertThat(anchors.list(dir).entries()).singleElement()
            .satisfies(e -> assertThat(e.metadata()).containsEntry("v", "2")));
        a.close();
    }

    @Test
    void badPathsAreRefusedBeforeZooKeeperSeesThem() {
        assertThatThrownBy(() -> anchors.file("/worker")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> anchors.list("no-slash")).hasMessageContaining("'no-slash'");
        assertThatThrownBy(() -> anchors.file("/x/" + me)).hasMessageContaining("looks like a worker id");
    }

    @Test
    void revisionsGrowWithChangesAndStayWithout() throws Exception {
        String dir = Fixture.freshDir("rev");
        Listing<Entry> missing = anchors.list(dir);
        assertThat(missing.revision()).as("a directory that does not exist").isZero();

        EntryNode one = ns.file(dir, new WorkerId(1).toString(), Fixture.data(dir, new WorkerId(1)));
        Listing<Entry> withOne = anchors.list(dir);
        assertThat(withOne.revision()).isPositive();
        assertThat(anchors.list(dir).revision()).as("no change, same revision").isEqualTo(withOne.revision());
        EntryNode two = ns.file(dir, new WorkerId(2).toString(), Fixture.data(dir, new WorkerId(2)));
        Listing<Entry> withTwo = anchors.list(dir);
        assertThat(withTwo.revision()).isGreaterThan(withOne.revision());
        two.close();
        Listing<Entry> oneAgain = anchors.list(dir);
        assertThat(oneAgain.revision()).isGreaterThan(withTwo.revision());
        assertThat(oneAgain.entries()).isEqualTo(withOne.entries());
        one.close();
        assertThat(anchors.list(dir).revision()).as("vanished").isZero();
    }

    @Test
    void awaitChangeReturnsTheNextRevisionOrTimesOut() throws Exception {
        String dir = Fixture.freshDir("await");
        Listing<Entry> before = anchors.list(dir);

        Listing<Entry> unchanged = anchors.awaitChange(dir, before.revision(), Duration.ofMillis(200));
        assertThat(unchanged.revision()).isEqualTo(before.revision());

        CompletableFuture<Listing<Entry>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return anchors.awaitChange(dir, before.revision(), Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        WorkerId other = WorkerId.random();
        try (EntryNode n = ns.file(dir, other.toString(), Fixture.data(dir, other))) {
            Listing<Entry> after = waiting.get(30, TimeUnit.SECONDS);
            assertThat(after.revision()).isNotEqualTo(before.revision());
            assertThat(after.entries()).extracting(Entry::worker).containsExactly(other);
        }
    }

    @Test
    void awaitChangeTakesAVeryLongTimeout() throws Exception {
        String dir = Fixture.freshDir("forever");
        CompletableFuture<Listing<Entry>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return anchors.awaitChange(dir, 0, Duration.ofSeconds(Long.MAX_VALUE)); // "as long as it takes"
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        WorkerId other = WorkerId.random();
        try (EntryNode n = ns.file(dir, other.toString(), Fixture.data(dir, other))) {
            assertThat(waiting.get(30, TimeUnit.SECONDS).entries()).extracting(Entry::worker).containsExactly(other);
        }
        Listing<Entry> now = anchors.list(dir);
        assertThat(anchors.awaitChange(dir, now.revision(), Duration.ofSeconds(-Long.MAX_VALUE)).revision())
            .as("a very negative timeout: no wait").isEqualTo(now.revision());
    }

    /**
     * Whether a subdirectory is listed depends on entries at any depth below it. A runtime filed two
     * levels down crashes (its session ends, nobody prunes its directories): the subdirectory leaves
     * the listing, and the revision must change with it, or awaitChange and watch miss it.
     */
    @Test
    void aSubdirectoryEmptiedByACrashedRuntimeChangesTheRevision() throws Exception {
        String top = Fixture.freshDir("crash");
        WorkerId crashing = WorkerId.random();
        try (Namespace other = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
             EntryNode stays = ns.file(top, me.toString(), Fixture.data(top, me))) {
            other.file(top + "/b/c", crashing.toString(), Fixture.data(top + "/b/c", crashing));
            Listing<Entry> before = anchors.list(top);
            assertThat(before.directories()).containsExactly(top + "/b");

            BlockingQueue<Listing<Entry>> seen = new LinkedBlockingQueue<>();
            try (Subscription w = anchors.watch(top, seen::add)) {
                assertThat(seen.poll(10, TimeUnit.SECONDS)).isNotNull();
                other.close(); // the crash: the session ends, nobody removes the entry or prunes its directories

                Listing<Entry> after = anchors.awaitChange(top, before.revision(), Duration.ofSeconds(5));
                assertThat(after.directories()).as("the subdirectory emptied by the crash").isEmpty();
                assertThat(after.revision()).as("revision of a listing whose content changed (directories %s -> %s)",
                    before.directories(), after.directories()).isNotEqualTo(before.revision());
                assertThat(seen.poll(5, TimeUnit.SECONDS)).as("watch's report of the change").isNotNull()
                    .satisfies(l -> assertThat(l.directories()).isEmpty());
                assertThat(anchors.list(top).revision()).as("no change, same revision").isEqualTo(after.revision());
            }
        }
    }

    /** The reverse: a value stored in an empty grandchild directory (left by a crash) brings its subdirectory into the listing. */
    @Test
    void aValueStoredInAnEmptyGrandchildDirectoryChangesTheRevision() throws Exception {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String top = Fixture.freshDir("grandchild");
        durable.putBytes(top + "/v", new byte[] {1});
        ns.client().create().creatingParentContainersIfNeeded().withMode(CreateMode.CONTAINER)
            .forPath(Namespace.durableZnode(top + "/b/c"), new byte[0]);
        Listing<Stored> before = durable.list(top);
        assertThat(before.directories()).as("a directory with nothing below it").isEmpty();

        durable.putBytes(top + "/b/c/v", new byte[] {2});
        Listing<Stored> after = durable.awaitChange(top, before.revision(), Duration.ofSeconds(5));
        assertThat(after.directories()).containsExactly(top + "/b");
        assertThat(after.revision()).isGreaterThan(before.revision());
    }

    @Test
    void watchReportsTheCurrentListingThenEachChange() throws Exception {
        String dir = Fixture.freshDir("watch");
        BlockingQueue<Listing<Entry>> seen = new LinkedBlockingQueue<>();
        try (Subscription s = anchors.watch(dir, seen::add)) {
            Listing<Entry> first = seen.poll(10, TimeUnit.SECONDS);
            assertThat(first).isNotNull().matches(Listing::isEmpty);
            AtomicReference<Listing<Entry>> last = new AtomicReference<>(first);
            WorkerId w = WorkerId.random();
            EntryNode n = ns.file(dir, w.toString(), Fixture.data(dir, w));
            await().untilAsserted(() -> assertThat(latest(seen, last).entries()).extracting(Entry::worker).containsExactly(w));
            n.close();
            await().untilAsserted(() -> assertThat(latest(seen, last).entries()).isEmpty());
        }
    }

    /** The newest listing reported so far: drains the queue into {@code last}, which keeps it between calls. */
    private static Listing<Entry> latest(BlockingQueue<Listing<Entry>> q, AtomicReference<Listing<Entry>> last) {
        for (Listing<Entry> l; (l = q.poll()) != null; ) {
            last.set(l);
        }
        return last.get();
    }

    @Test
    void subscribeReplaysMembersThenReportsJoinsAndLeaves() throws Exception {
        String dir = Fixture.freshDir("members");
        WorkerId a = WorkerId.random();
        WorkerId b = WorkerId.random();
        EntryNode na = ns.file(dir, a.toString(), Fixture.data(dir, a));
        EntryNode nb = ns.file(dir, b.toString(), Fixture.data(dir, b));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        try (Subscription s = anchors.subscribe(dir, new Membership() {
            @Override
            public void joined(Entry e) {
                events.add("join " + e.worker());
            }

            @Override
            public void left(Entry e) {
                events.add("leave " + e.worker());
            }
        })) {
            assertThat(List.of(events.poll(10, TimeUnit.SECONDS), events.poll(10, TimeUnit.SECONDS)))
                .containsExactlyInAnyOrder("join " + a, "join " + b);
            WorkerId c = WorkerId.random();
            EntryNode nc = ns.file(dir, c.toString(), Fixture.data(dir, c));
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("join " + c);
            na.close();
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("leave " + a);
            nc.close();
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("leave " + c);
        } finally {
            nb.close();
        }
        assertThat(events).isEmpty();
    }

    @Test
    void anEntryThatLeavesRightAfterSubscribeIsReportedJoiningThenLeaving() throws Exception {
        // the subscription lists on its own thread: before, an entry gone by then was reported neither way
        for (int round = 0; round < 20; round++) {
            String dir = Fixture.freshDir("brief");
            WorkerId a = WorkerId.random();
            EntryNode na = ns.file(dir, a.toString(), Fixture.data(dir, a));
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            try (Subscription s = anchors.subscribe(dir, new Membership() {
                @Override
                public void joined(Entry e) {
                    events.add("join " + e.worker());
                }

                @Override
                public void left(Entry e) {
                    events.add("leave " + e.worker());
                }
            })) {
                na.close();
                assertThat(List.of(events.poll(10, TimeUnit.SECONDS), events.poll(10, TimeUnit.SECONDS)))
                    .as("round %d", round).containsExactly("join " + a, "leave " + a);
            }
        }
    }

    @Test
    void whenGoneRunsOnceWhenTheWorkerLeavesAndAtOnceForOneNeverFiled() throws Exception {
        WorkerId other = WorkerId.random();
        String path = "/worker/" + other;
        EntryNode node = ns.file("/worker", other.toString(), Fixture.data("/worker", other));
        BlockingQueue<Boolean> filedWhenRun = new LinkedBlockingQueue<>();
        try (Subscription s = anchors.whenGone(other, () -> filedWhenRun.add(ns.hasEntry(path)))) {
            node.setData(Fixture.data("/worker", other)); // a change to the entry is not a departure
            node.close();
            assertThat(filedWhenRun.poll(10, TimeUnit.SECONDS)).isFalse();
        }
        CompletableFuture<Void> never = new CompletableFuture<>();
        try (Subscription s = anchors.whenGone(WorkerId.random(), () -> never.complete(null))) {
            never.get(10, TimeUnit.SECONDS);
        }
        assertThat(filedWhenRun).isEmpty();
    }

    @Test
    void filingReplacesAnEntryThatAnEarlierSessionLeft() throws Exception {
        String dir = Fixture.freshDir("left");
        WorkerId id = WorkerId.random();
        String znode = Namespace.anchorZnode(Paths.child(dir, id.toString()));
        // A runtime that died and came back with the same id: its old session still holds the entry.
        try (CuratorFramework earlier = CuratorFrameworkFactory.builder().connectString(zk.getConnectString())
            .namespace(ns.config().root()).retryPolicy(new RetryOneTime(100)).build()) {
            earlier.start();
            earlier.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
                .forPath(znode, EntryCodec.encode(new Entry(Paths.child(dir, id.toString()), id,
                    new io.jcircuit.Address("127.0.0.1", 1), "old", 1, java.time.Instant.EPOCH, Map.of("role", "old"))));
            try (EntryNode now = ns.file(dir, id.toString(), Fixture.data(dir, id))) {
                assertThat(anchors.list(dir).entries()).singleElement()
                    .satisfies(e -> assertThat(e.metadata()).containsEntry("role", "test"));
                assertThat(earlier.checkExists().forPath(znode).getEphemeralOwner())
                    .isEqualTo(ns.client().getZookeeperClient().getZooKeeper().getSessionId());
            }
        }
    }

    @Test
    void anEntryRemovedByAnotherClientIsFiledAgainWhetherItsDirectoryExistedOrNot() throws Exception {
        String dir = Fixture.freshDir("back");
        // the first entry of a new directory takes the looking path, the second the one-round-trip create
        WorkerId first = WorkerId.random();
        WorkerId second = WorkerId.random();
        try (EntryNode a = ns.file(dir, first.toString(), Fixture.data(dir, first));
             EntryNode b = ns.file(dir, second.toString(), Fixture.data(dir, second));
             CuratorFramework other = CuratorFrameworkFactory.builder().connectString(zk.getConnectString())
                 .namespace(ns.config().root()).retryPolicy(new RetryOneTime(100)).build()) {
            other.start();
            for (WorkerId id : List.of(first, second)) {
                String znode = Namespace.anchorZnode(Paths.child(dir, id.toString()));
                other.delete().forPath(znode);
                await().untilAsserted(() -> assertThat(other.checkExists().forPath(znode)).as(id + " filed again")
                    .isNotNull().satisfies(st -> assertThat(st.getEphemeralOwner())
                        .isEqualTo(ns.client().getZookeeperClient().getZooKeeper().getSessionId())));
            }
        }
        assertThat(anchors.list(dir).isEmpty()).isTrue();
    }

    @Test
    void warmingUpTheFilingCallsLeavesNothingBehind() throws Exception {
        String before = anchors.list("/").directories().toString();
        anchors.warmUp(8, 4);
        org.apache.zookeeper.data.Stat scratch = ns.client().checkExists().forPath(Namespace.WARMUP);
        assertThat(scratch == null ? 0 : scratch.getNumChildren()).as("scratch entries left").isZero();
        assertThat(anchors.list("/").directories()).hasToString(before);
        assertThat(anchors.filed()).as("the scratch filing, kept no longer").doesNotContain(Namespace.WARMUP);
    }

    record Config(String name, int shards, List<String> tags) implements Serializable {
    }

    @Test
    void durableValuesRoundTripAndList() {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String dir = Fixture.freshDir("durable");
        durable.putBytes(dir + "/raw", new byte[] {1, 2, 3});
        durable.put(dir + "/cfg/main", new Config("wc", 4, List.of("a", "b")));

        assertThat(durable.getBytes(dir + "/raw")).hasValueSatisfying(v -> assertThat(v).containsExactly(1, 2, 3));
        assertThat(durable.get(dir + "/cfg/main", Config.class)).contains(new Config("wc", 4, List.of("a", "b")));
        assertThat(durable.getBytes(dir + "/missing")).isEmpty();
        assertThat(durable.get(dir + "/cfg", Config.class)).as("a directory holds no value").isEmpty();

        Listing<Stored> l = durable.list(dir);
        assertThat(l.entries()).singleElement().satisfies(s -> {
            assertThat(s.path()).isEqualTo(dir + "/raw");
            assertThat(s.bytes()).isEqualTo(3);
            assertThat(s.object()).isFalse();
        });
        assertThat(l.directories()).containsExactly(dir + "/cfg");
        assertThat(durable.listAll(dir).entries()).extracting(Stored::path).containsExactly(dir + "/cfg/main", dir + "/raw");

        durable.putBytes(dir + "/raw", new byte[] {9});
        assertThat(durable.getBytes(dir + "/raw")).hasValueSatisfying(v -> assertThat(v).containsExactly(9));

        assertThatThrownBy(() -> durable.get(dir + "/raw", Config.class)).hasMessageContaining("stored as bytes");
        // a kind this build does not know is not called bytes (a probe wrote kind 9 into ZooKeeper)
        ns.put(dir + "/odd", (byte) 9, new byte[] {1});
        assertThatThrownBy(() -> durable.get(dir + "/odd", Config.class)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("is of kind 9, which this runtime does not know");
        assertThat(durable.delete(dir + "/odd")).isTrue();
        assertThatThrownBy(() -> durable.put(dir + "/cfg", "x")).hasMessageContaining("is a directory");
        assertThatThrownBy(() -> durable.putBytes(dir + "/big", new byte[io.jcircuit.Durable.MAX_VALUE_BYTES + 1]))
            .hasMessageContaining("at most");

        assertThat(durable.delete(dir + "/cfg/main")).isTrue();
        assertThat(durable.delete(dir + "/cfg/main")).isFalse();
        assertThat(durable.list(dir).directories()).as("emptied directory vanishes").isEmpty();
        assertThat(durable.delete(dir + "/raw")).isTrue();
        assertThat(durable.list("/").directories()).doesNotContain(dir);
    }

    @Test
    void createStoresOnlyWhereNothingIsYet() {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String dir = Fixture.freshDir("create");
        assertThat(ns.create(dir + "/v/1", Namespace.KIND_BYTES, new byte[] {1})).isTrue();
        assertThat(ns.create(dir + "/v/1", Namespace.KIND_BYTES, new byte[] {2})).isFalse();
        assertThat(durable.getBytes(dir + "/v/1")).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
        assertThat(durable.delete(dir + "/v/1")).isTrue();
    }

    @Test
    void baseMetadataGoesOnEveryEntryFiledAfterAndOnTheWorkerEntry() {
        WorkerId other = WorkerId.random();
        String dir = Fixture.freshDir("base");
        try (NamespaceAnchors a = new NamespaceAnchors(ns, Fixture.self(other, 5001), e -> null)) {
            a.setBaseMetadata(Map.of("code", "app:2", "k", "base"));
            a.file(dir, Map.of("k", "own"));
            Entry filed = a.list(dir).entries().getFirst();
            assertThat(filed.metadata()).containsEntry("code", "app:2").containsEntry("k", "own");
            Entry worker = a.list("/worker").entries().stream().filter(e -> e.worker().equals(other)).findFirst().orElseThrow();
            assertThat(worker.metadata()).containsEntry("code", "app:2");
        }
    }

    @Test
    void aValueMayHaveValuesBelowIt() {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String dir = Fixture.freshDir("nested");
        durable.putBytes(dir + "/a", new byte[] {1});
        durable.putBytes(dir + "/a/b", new byte[] {2});
        assertThat(durable.delete(dir + "/a")).isTrue();
        assertThat(durable.getBytes(dir + "/a/b")).isPresent();
        assertThat(durable.list(dir).entries()).isEmpty();
        assertThat(durable.list(dir).directories()).containsExactly(dir + "/a");
        assertThat(durable.delete(dir + "/a/b")).isTrue();
        assertThat(durable.list("/").directories()).doesNotContain(dir);
    }

    @Test
    void aDurableValueIsReplacedOnlyWhileItIsAsRead() {
        String v = Fixture.freshDir("replace") + "/v";
        ns.put(v, Namespace.KIND_BYTES, new byte[] {1});
        byte[] read = ns.get(v).orElseThrow();
        ns.put(v, Namespace.KIND_BYTES, new byte[] {2}); // put by another writer in between
        assertThat(ns.replace(v, read, Namespace.KIND_BYTES, new byte[] {3})).isFalse();
        assertThat(ns.get(v)).hasValueSatisfying(d -> assertThat(d).containsExactly(Namespace.KIND_BYTES, 2));
        assertThat(ns.replace(v, ns.get(v).orElseThrow(), Namespace.KIND_OBJECT, new byte[] {3})).isTrue();
        assertThat(ns.get(v)).hasValueSatisfying(d -> assertThat(d).containsExactly(Namespace.KIND_OBJECT, 3));
        byte[] last = ns.get(v).orElseThrow();
        assertThat(ns.delete(v)).isTrue();
        assertThat(ns.replace(v, last, Namespace.KIND_BYTES, new byte[] {4})).as("deleted in between").isFalse();
        assertThat(ns.get(v)).isEmpty();
    }

    @Test
    void durableWatchAndAwait() throws Exception {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String dir = Fixture.freshDir("dwatch");
        BlockingQueue<Listing<Stored>> seen = new LinkedBlockingQueue<>();
        Listing<Stored> before = durable.list(dir);
        try (Subscription s = durable.watch(dir, seen::add)) {
            assertThat(seen.poll(10, TimeUnit.SECONDS)).isNotNull().matches(Listing::isEmpty);
            durable.putBytes(dir + "/k", new byte[] {7});
            Listing<Stored> after = durable.awaitChange(dir, before.revision(), Duration.ofSeconds(30));
            assertThat(after.entries()).extracting(Stored::name).containsExactly("k");
            await().until(() -> seen.stream().anyMatch(l -> !l.entries().isEmpty()));
        }
    }

    /**
     * ZooKeeper names a directory's children in one answer, and its client drops the connection on one
     * over its buffer (1 MiB by default): a directory of 4,100 values with 255-character names could not
     * be listed, and each listing dropped the runtime's connection four times (Curator's retries).
     */
    @Test
    void aDirectoryOfManyValuesWithLongNamesCanBeListed() throws Exception {
        NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
        String dir = Fixture.freshDir("wide");
        int n = 4_100; // names of 255 characters: 4,100 * (4 + 255) bytes is over 1 MiB
        String pad = "v".repeat(Paths.MAX_COMPONENT - 6);
        createValues(dir, pad, n);
        java.util.concurrent.atomic.AtomicInteger lost = countSuspensions(ns);
        try {
            Listing<Stored> l = durable.list(dir);
            assertThat(l.entries()).hasSize(n);
            assertThat(lost.get()).as("times the ZooKeeper connection was lost by listing one directory").isZero();
        } finally {
            deleteValues(dir, pad, n); // gone before the next test, which may list the whole store
        }
    }

    /** A directory larger than a listing may be is refused before ZooKeeper is asked, naming it and the limit. */
    @Test
    void aDirectoryTooLargeToListIsRefusedClearlyAndTheConnectionStays() throws Exception {
        try (Namespace small = Namespace.connect(NamespaceConfig.of(zk.getConnectString()).withMaxListedChildren(50))) {
            NamespaceDurable durable = new NamespaceDurable(small, new JavaValueCodec());
            NamespaceAnchors a = new NamespaceAnchors(small, Fixture.self(WorkerId.random(), 5005), e -> null);
            String dir = Fixture.freshDir("toolarge");
            String pad = "w".repeat(Paths.MAX_COMPONENT - 6);
            createValues(dir + "/fits", pad, 50); // 50 names of the longest: one answer at most
            createValues(dir + "/sub", "x", 51);
            java.util.concurrent.atomic.AtomicInteger lost = countSuspensions(small);

            assertThat(durable.list(dir + "/fits").entries()).hasSize(50);
            assertThatThrownBy(() -> durable.list(dir + "/sub")).isInstanceOf(NamespaceException.class)
                .hasMessageContaining("durable directory " + dir + "/sub holds 51 values").hasMessageContaining("(50,")
                .hasMessageNotContaining("unreachable");
            // its parent lists it without looking in (before: refused, and with it 'ls /' for the whole store)
            assertThat(durable.list(dir).directories()).containsExactly(dir + "/fits", dir + "/sub");
            assertThatThrownBy(() -> durable.listAll(dir)).hasMessageContaining(dir + "/sub holds 51");
            BlockingQueue<Listing<Stored>> seen = new LinkedBlockingQueue<>();
            try (Subscription w = durable.watch(dir + "/sub", seen::add)) {
                durable.delete(dir + "/sub/x000000");
                assertThat(seen.poll(10, TimeUnit.SECONDS)).as("listed once it is small enough").isNotNull()
                    .satisfies(l -> assertThat(l.entries()).hasSize(50));
            }
            assertThat(lost.get()).as("times the ZooKeeper connection was lost").isZero();
            assertThat(a.list("/worker").entries()).isNotEmpty();
            a.close();
            deleteValues(dir + "/fits", pad, 50);
            deleteValues(dir + "/sub", "x", 51);
        }
    }

    /** Stores {@code n} values {@code dir/<pad><6 digits>} in the background, as putBytes would (kind byte, then the bytes). */
    private static void createValues(String dir, String pad, int n) throws Exception {
        ns.client().create().creatingParentContainersIfNeeded().forPath(Namespace.durableZnode(dir) + "/" + pad + "-seed",
            new byte[] {Namespace.KIND_BYTES, 1});
        java.util.concurrent.CountDownLatch created = new java.util.concurrent.CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            ns.client().create().inBackground((c, e) -> created.countDown())
                .forPath(Namespace.durableZnode(dir) + "/" + pad + String.format("%06d", i), new byte[] {Namespace.KIND_BYTES, 7});
        }
        assertThat(created.await(60, TimeUnit.SECONDS)).isTrue();
        ns.client().delete().forPath(Namespace.durableZnode(dir) + "/" + pad + "-seed");
    }

    private static void deleteValues(String dir, String pad, int n) throws Exception {
        java.util.concurrent.CountDownLatch deleted = new java.util.concurrent.CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            ns.client().delete().inBackground((c, e) -> deleted.countDown())
                .forPath(Namespace.durableZnode(dir) + "/" + pad + String.format("%06d", i));
        }
        assertThat(deleted.await(60, TimeUnit.SECONDS)).isTrue();
    }

    private static java.util.concurrent.atomic.AtomicInteger countSuspensions(Namespace n) {
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        n.client().getConnectionStateListenable().addListener((c, state) -> {
            if (state == org.apache.curator.framework.state.ConnectionState.SUSPENDED) {
                lost.incrementAndGet();
            }
        });
        return lost;
    }

    @Test
    void tenThousandEntriesListQuickly() throws Exception {
        String dir = Fixture.freshDir("scale");
        int n = 10_000;
        ns.client().create().creatingParentContainersIfNeeded().forPath(Namespace.anchorZnode(dir) + "/seed");
        java.util.concurrent.CountDownLatch created = new java.util.concurrent.CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            WorkerId id = new WorkerId(i + 1);
            ns.client().create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL)
                .inBackground((c, e) -> created.countDown())
                .forPath(Namespace.anchorZnode(dir) + "/" + id, Fixture.data(dir, id));
        }
        assertThat(created.await(60, TimeUnit.SECONDS)).isTrue();
        ns.client().delete().forPath(Namespace.anchorZnode(dir) + "/seed");
        anchors.list(dir); // warm up
        long t0 = System.nanoTime();
        Listing<Entry> l = anchors.list(dir);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("namespace scale: listed " + l.entries().size() + " entries in " + ms + " ms");
        assertThat(l.entries()).hasSize(n);
        java.util.concurrent.CountDownLatch deleted = new java.util.concurrent.CountDownLatch(n);
        for (Entry e : l.entries()) {
            ns.client().delete().inBackground((c, ev) -> deleted.countDown()).forPath(Namespace.anchorZnode(e.path()));
        }
        // gone before the next test, which may compare listings of the whole namespace
        assertThat(deleted.await(60, TimeUnit.SECONDS)).isTrue();
    }
}
