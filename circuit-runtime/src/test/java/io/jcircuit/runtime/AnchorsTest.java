package io.jcircuit.runtime;

import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.Membership;
import io.jcircuit.Subscription;
import io.jcircuit.anchor.NamespaceException;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Runtimes finding each other through the namespace, against a real ZooKeeper. */
class AnchorsTest {

    private static TestingServer zk;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    private static CircuitRuntime runtime() {
        return CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.getConnectString()).build());
    }

    @Test
    void aRuntimeFoundUnderAnAnchorCanBeDialed() {
        try (CircuitRuntime a = runtime(); CircuitRuntime b = runtime()) {
            a.listen("echo", Echo.class, new EchoImpl());
            a.anchors().file("/dial/echo", Map.of("service", "echo"));

            Listing<Entry> found = b.anchors().list("/dial/echo");
            assertThat(found.entries()).singleElement().satisfies(e -> {
                assertThat(e.worker()).isEqualTo(a.id());
                assertThat(e.address()).isEqualTo(a.address());
                assertThat(e.pid()).isEqualTo(ProcessHandle.current().pid());
            });
            Entry e = found.entries().getFirst();
            Echo echo = b.anchors().worker(e).dial(e.metadata().get("service"), Echo.class);
            assertThat(echo.echo("via anchors")).isEqualTo("via anchors");
            assertThat(b.anchors().list("/worker").entries()).extracting(Entry::worker).contains(a.id(), b.id());
        }
    }

    /**
     * A runtime's entry metadata is on its {@code /worker} entry from its first filing (the znode was never
     * written again: a host's warm JVM is never listed without its standby mark), and on every entry it files,
     * where the entry's own metadata wins.
     */
    @Test
    void aRuntimesEntryMetadataIsOnItsEntriesFromTheirFirstFiling() throws Exception {
        RuntimeConfig config = RuntimeConfig.builder().zookeeper(zk.getConnectString())
            .entryMetadata(Map.of("role", "front", "zone", "a")).build();
        try (CircuitRuntime a = CircuitRuntime.start(config); CircuitRuntime b = runtime();
             org.apache.curator.framework.CuratorFramework raw = org.apache.curator.framework.CuratorFrameworkFactory
                 .newClient(zk.getConnectString(), new org.apache.curator.retry.RetryOneTime(100))) {
            raw.start();
            org.apache.zookeeper.data.Stat stat = raw.checkExists().forPath("/jcircuit/anchors/worker/" + a.id());
            assertThat(stat).isNotNull();
            assertThat(stat.getVersion()).as("filed once, with its metadata").isZero();
            assertThat(b.anchors().list("/worker").entries()).filteredOn(e -> e.worker().equals(a.id())).singleElement()
                .satisfies(e -> assertThat(e.metadata()).containsEntry("role", "front").containsEntry("zone", "a"));

            a.anchors().file("/meta/front", Map.of("zone", "b"));
            assertThat(b.anchors().list("/meta/front").entries()).singleElement()
                .satisfies(e -> assertThat(e.metadata()).containsEntry("role", "front").containsEntry("zone", "b"));
        }
        assertThatThrownBy(() -> RuntimeConfig.builder().entryMetadata(java.util.Collections.singletonMap("k", null)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }

    /**
     * An {@code awaitChange} of anchors or of the durable store, blocked when its runtime closes, fails
     * at once, as whatever starts on a closed runtime does: before, nothing woke it, and it waited out
     * its whole timeout.
     */
    @Test
    void aBlockedAwaitChangeFailsAtOnceWhenItsRuntimeCloses() throws Exception {
        CircuitRuntime rt = runtime();
        io.jcircuit.Anchors anchors = rt.anchors();
        io.jcircuit.Durable durable = rt.durable();
        long anchorsRevision = anchors.list("/await/closed").revision();
        long durableRevision = durable.list("/await/closed").revision();
        java.util.concurrent.CompletableFuture<Object> onAnchors = blockedIn(
            () -> anchors.awaitChange("/await/closed", anchorsRevision, Duration.ofSeconds(60)));
        java.util.concurrent.CompletableFuture<Object> onDurable = blockedIn(
            () -> durable.awaitChange("/await/closed", durableRevision, Duration.ofSeconds(60)));

        rt.close();

        assertThat(onAnchors).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .havingCause().isInstanceOf(IllegalStateException.class).withMessageContaining("closed");
        assertThat(onDurable).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .havingCause().isInstanceOf(IllegalStateException.class).withMessageContaining("closed");
        assertThatThrownBy(() -> anchors.awaitChange("/await/closed", anchorsRevision, Duration.ofSeconds(60)))
            .as("one that starts after close").isInstanceOf(IllegalStateException.class);
    }

    /** Runs {@code wait} on a thread of its own, and returns once that thread waits for a change. */
    private static java.util.concurrent.CompletableFuture<Object> blockedIn(java.util.concurrent.Callable<Object> wait) {
        java.util.concurrent.CompletableFuture<Object> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                outcome.complete(wait.call());
            } catch (Throwable e) {
                outcome.completeExceptionally(e);
            }
        });
        // the wait itself runs on a virtual thread of the namespace's, bounded by the timeout; this one waits for it
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.TIMED_WAITING
            && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals("io.jcircuit.anchor.Namespace")
                && f.getMethodName().equals("awaitChange")));
        return outcome;
    }

    @Test
    void aHolderThatLeavesWorkerButIsStillLinkedKeepsItsReferences() throws Exception {
        try (CircuitRuntime home = runtime(); CircuitRuntime holder = runtime();
             org.apache.curator.framework.CuratorFramework raw = org.apache.curator.framework.CuratorFrameworkFactory
                 .newClient(zk.getConnectString(), new org.apache.curator.retry.RetryOneTime(100))) {
            raw.start();
            home.listen("echo", Echo.class, new EchoImpl());
            Counter c = holder.dial(home.address(), "echo", Echo.class).makeCounter();
            assertThat(c.add(1)).isEqualTo(1);
            assertThat(home.activity().heldRemotely()).isTrue();
            CountDownLatch joined = new CountDownLatch(1);
            CountDownLatch left = new CountDownLatch(1);
            try (Subscription watch = home.anchors().subscribe("/worker", new Membership() {
                @Override
                public void joined(Entry e) {
                    if (e.worker().equals(holder.id())) {
                        joined.countDown();
                    }
                }

                @Override
                public void left(Entry e) {
                    if (e.worker().equals(holder.id())) {
                        left.countDown();
                    }
                }
            })) {
                // What an expired ZooKeeper session does to a runtime that is alive and linked: its entry
                // goes. No new entry may be made meanwhile, or the holder would file itself again at once.
                String dir = "/jcircuit/anchors/worker";
                raw.setACL().withACL(List.of(new org.apache.zookeeper.data.ACL(org.apache.zookeeper.ZooDefs.Perms.ALL
                    & ~org.apache.zookeeper.ZooDefs.Perms.CREATE, org.apache.zookeeper.ZooDefs.Ids.ANYONE_ID_UNSAFE))).forPath(dir);
                // home says it has dealt with the departure (after it would have dropped the holds), at INFO
                ch.qos.logback.classic.Logger runtimeLog =
                    (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(CircuitRuntime.class);
                ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                    new ch.qos.logback.core.read.ListAppender<>();
                log.start();
                runtimeLog.addAppender(log);
                ch.qos.logback.classic.Level configured = runtimeLog.getLevel();
                runtimeLog.setLevel(ch.qos.logback.classic.Level.INFO);
                try {
                    // the subscription replays what is there from a listing of its own: it must have seen the entry
                    assertThat(joined.await(10, TimeUnit.SECONDS)).isTrue();
                    raw.delete().forPath(dir + "/" + holder.id());
                    assertThat(left.await(10, TimeUnit.SECONDS)).isTrue();
                    String dealtWith = "worker " + holder.id() + " left /worker while its link is up";
                    await().atMost(Duration.ofSeconds(10)).until(() -> {
                        synchronized (log) { // the appender adds under this lock, from the runtimes' threads
                            return log.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith(dealtWith));
                        }
                    });
                    // before: dropped, as if the holder had died
                    assertThat(home.activity().heldRemotely()).isTrue();
                } finally {
                    runtimeLog.setLevel(configured);
                    runtimeLog.detachAppender(log);
                    raw.setACL().withACL(org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(dir);
                }
            }
            // the holder files itself again; its reference stayed held and answers
            await().atMost(Duration.ofSeconds(30)).until(() -> home.anchors().list("/worker").entries().stream()
                .anyMatch(e -> e.worker().equals(holder.id())));
            assertThat(home.activity().heldRemotely()).isTrue();
            assertThat(c.add(1)).isEqualTo(2);
        }
    }

    @Test
    void aCleanCloseRemovesTheEntriesAtOnce() {
        try (CircuitRuntime watcher = runtime()) {
            CircuitRuntime leaving = runtime();
            leaving.anchors().file("/leaving/svc");
            assertThat(watcher.anchors().list("/leaving/svc").entries()).hasSize(1);
            leaving.close();
            assertThat(watcher.anchors().list("/leaving").isEmpty()).isTrue();
            assertThat(watcher.anchors().list("/worker").entries()).extracting(Entry::worker).doesNotContain(leaving.id());
        }
    }

    @Test
    void aStoredReferenceIsCallableFromAnotherRuntime() {
        try (CircuitRuntime a = runtime(); CircuitRuntime b = runtime()) {
            CounterImpl impl = new CounterImpl();
            a.durable().put("/refs/counter", a.ref(Counter.class, impl));

            Counter c = b.durable().get("/refs/counter", Counter.class).orElseThrow();
            assertThat(b.isReference(c)).isTrue();
            assertThat(b.homeOf(c).id()).isEqualTo(a.id());
            c.add(5);
            c.add(2);
            assertThat(impl.get()).isEqualTo(7);
            assertThat(b.durable().delete("/refs/counter")).isTrue();
        }
    }

    /**
     * A runtime that reads the same stored reference many times is counted at its home as holding it,
     * after one acquire, and is released once it drops it; a read after that acquires it again. Before,
     * every read sent an acquire of its own (1,000 here), and dialed the home again if it was dead.
     */
    @Test
    void aStoredReferenceReadManyTimesIsAcquiredOnceAndReleasedOnceDropped() {
        try (CircuitRuntime a = runtime(); CircuitRuntime b = runtime()) {
            Counter stored = a.ref(Counter.class, new CounterImpl());
            long handle = ((RefHandler) java.lang.reflect.Proxy.getInvocationHandler(stored)).target().handle();
            a.durable().put("/refs/read-often", stored);
            long before = a.exports().acquires();
            long queuedBefore = b.acquires().requested();
            long answeredBefore = b.acquires().answered();

            Counter read = b.durable().get("/refs/read-often", Counter.class).orElseThrow();
            for (int i = 1; i < 1_000; i++) {
                assertThat(b.durable().get("/refs/read-often", Counter.class)).contains(read);
            }
            assertThat(read.add(3)).isEqualTo(3);
            // every acquire the reads queued has been answered by home (each is queued as its read returns)
            long queued = b.acquires().requested() - queuedBefore;
            await().atMost(Duration.ofSeconds(10)).until(() -> b.acquires().answered() - answeredBefore == queued);
            assertThat(queued).as("acquires the reader queued").isEqualTo(1);
            assertThat(a.exports().acquires() - before).as("acquires home took").isEqualTo(1);
            assertThat(a.exports().holds(handle, b.id())).as("holds home counts for the reader").isEqualTo(1);

            read = null;
            gcUntil(() -> !a.exports().isHeldBy(handle, b.id()));

            Counter again = b.durable().get("/refs/read-often", Counter.class).orElseThrow();
            await().atMost(Duration.ofSeconds(10))
                .until(() -> a.exports().acquires() - before == 2 && a.exports().holds(handle, b.id()) == 1);
            assertThat(again.add(1)).isEqualTo(4);
        }
    }

    /** Collects until {@code check} holds: reference processing needs a GC and the cleaners to run. */
    private static void gcUntil(java.util.concurrent.Callable<Boolean> check) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return check.call();
        });
    }

    @Test
    void callsAndReferencesKeepWorkingWhileZooKeeperIsAway() throws Exception {
        try (TestingServer own = new TestingServer(true);
             CircuitRuntime a = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(own.getConnectString())
                 .zookeeperConnectTimeoutMs(1000).build());
             CircuitRuntime b = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(own.getConnectString()).build())) {
            a.listen("echo", Echo.class, new EchoImpl());
            a.anchors().file("/away/echo");
            Entry e = b.anchors().list("/away/echo").entries().getFirst();
            Echo echo = b.anchors().worker(e).dial("echo", Echo.class);

            own.stop();
            assertThat(echo.echo("still here")).isEqualTo("still here");
            assertThatThrownBy(() -> a.anchors().list("/away")).isInstanceOf(NamespaceException.class);

            own.restart();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                assertThat(b.anchors().list("/away/echo").entries()).extracting(Entry::worker).containsExactly(a.id()));
            assertThat(echo.echo("and after")).isEqualTo("and after");
        }
    }

    @Test
    void embeddedZooKeeperServesOtherRuntimes(@TempDir Path state) {
        try (CircuitRuntime first = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(state).build())) {
            String connect = first.embeddedZooKeeperConnectString().orElseThrow();
            try (CircuitRuntime second = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(connect).build())) {
                first.anchors().file("/embedded/a");
                assertThat(second.anchors().list("/embedded/a").entries()).extracting(Entry::worker).containsExactly(first.id());
            }
        }
    }

    @Test
    void joiningTheNamespaceWithTheDefaultsLogsNoCuratorWarning() {
        ch.qos.logback.classic.Logger curator = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.apache.curator");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log = new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        curator.addAppender(log);
        ch.qos.logback.classic.Level configured = curator.getLevel(); // the tests' logback file keeps it quiet
        curator.setLevel(ch.qos.logback.classic.Level.WARN);
        try (CircuitRuntime rt = runtime()) {
            assertThat(rt.anchors().list("/").entries()).isNotNull();
        } finally {
            curator.setLevel(configured);
            curator.detachAppender(log);
        }
        assertThat(log.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
            .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).isEmpty();
    }

    @Test
    void aRuntimeWithoutZooKeeperSaysHowToGetANamespace() {
        try (CircuitRuntime plain = CircuitRuntime.start()) {
            assertThatThrownBy(plain::anchors).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no namespace").hasMessageContaining("zookeeper");
            assertThatThrownBy(plain::durable).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aZooKeeperThatIsDownAtStartFailsTheStart() {
        assertThatThrownBy(() -> CircuitRuntime.start(RuntimeConfig.builder().zookeeper("127.0.0.1:1")
            .zookeeperConnectTimeoutMs(500).build()))
            .isInstanceOf(NamespaceException.class).hasMessageContaining("127.0.0.1:1");
    }

    /** A worker JVM killed with SIGKILL leaves the namespace within the session timeout. */
    @Test
    @Tag("slow")
    void aCrashedWorkersEntriesDisappear(@TempDir Path state) throws Exception {
        try (CircuitRuntime local = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(state).build())) {
            String connect = local.embeddedZooKeeperConnectString().orElseThrow();
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            try (Subscription s = local.anchors().subscribe("/crash", new Membership() {
                @Override
                public void joined(Entry e) {
                    events.add("join " + e.worker());
                }

                @Override
                public void left(Entry e) {
                    events.add("leave " + e.worker());
                }
            })) {
                TwoProcessTest.Started w = TwoProcessTest.launchWorkerJvm(connect, "/crash");
                try {
                    assertThat(events.poll(30, TimeUnit.SECONDS)).isEqualTo("join " + w.id());
                    long killedAt = System.nanoTime();
                    w.process().destroyForcibly().waitFor();
                    assertThat(events.poll(30, TimeUnit.SECONDS)).isEqualTo("leave " + w.id());
                    System.out.println("namespace: entries of a killed worker went after "
                        + (System.nanoTime() - killedAt) / 1_000_000 + " ms (session timeout 4000 ms)");
                    assertThat(local.anchors().list("/worker").entries()).extracting(Entry::worker).doesNotContain(w.id());
                } finally {
                    w.process().destroyForcibly();
                }
            }
        }
    }

    /**
     * A stored value of a class the reader cannot load is said to be so, as a call's answer is, naming
     * its path; it stays there for a reader that can. (A probe found "malformed stored value".)
     */
    @Test
    void aStoredValueOfAClassTheReaderCannotLoadIsSaidToBeSo() {
        try (CircuitRuntime writer = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.getConnectString())
                 .classLoader(CallTest.onlyHereLoader()).build());
             CircuitRuntime reader = runtime()) {
            writer.durable().put("/unreadable/v", CallTest.unknownElsewhere());
            assertThatThrownBy(() -> reader.durable().get("/unreadable/v", Object.class))
                .isInstanceOf(io.jcircuit.UnreadableValueException.class)
                .hasMessageContaining("durable value at '/unreadable/v'").hasMessageContaining(CallTest.ONLY_HERE)
                .hasMessageNotContaining("malformed");
            assertThat(writer.durable().get("/unreadable/v", Object.class)).get()
                .extracting(o -> o.getClass().getName()).isEqualTo(CallTest.ONLY_HERE);
        }
    }

    /**
     * A value that cannot be serialized is refused as a call's argument is, with {@link io.jcircuit.UnwritableValueException}
     * naming the path, and nothing is stored (a probe found the codec's own exception, which is no {@code CircuitException}).
     */
    @Test
    void aValueThatCannotBeSerializedIsRefusedAsACallsArgumentIs() {
        try (CircuitRuntime rt = runtime()) {
            assertThatThrownBy(() -> rt.durable().put("/unwritable/thread", Thread.currentThread()))
                .isInstanceOf(io.jcircuit.UnwritableValueException.class)
                .hasMessageContaining("cannot store a durable value at '/unwritable/thread'");
            assertThat(rt.durable().get("/unwritable/thread", Object.class)).isEmpty();
        }
    }

    /**
     * A value nested deeper than any runtime reads is refused when put, and nothing is stored: a probe stored
     * one of 600 levels, and every get of it failed.
     */
    @Test
    void aValueNestedDeeperThanAnyRuntimeReadsIsRefusedWhenPut() {
        try (CircuitRuntime rt = runtime()) {
            assertThatThrownBy(() -> rt.durable().put("/deep/v", MessageLimitsTest.Chain.of(600)))
                .isInstanceOf(io.jcircuit.UnwritableValueException.class)
                .hasMessageContaining("cannot store a durable value at '/deep/v'")
                .hasMessageContaining("nests values deeper than a runtime reads");
            assertThat(rt.durable().get("/deep/v", Object.class)).isEmpty();
            rt.durable().put("/deep/v", MessageLimitsTest.Chain.of(400));
            assertThat(rt.durable().get("/deep/v", MessageLimitsTest.Chain.class)).get()
                .extracting(MessageLimitsTest.Chain::length).isEqualTo(400);
        }
    }

    /**
     * A value can be replaced while values below it exist; deleted, it leaves a directory, where no value
     * can be put until the values below it go (as the javadoc of {@code Durable} says; a probe asked).
     */
    @Test
    void aValueDeletedWhileValuesBelowItStayLeavesADirectory() {
        try (CircuitRuntime rt = runtime()) {
            io.jcircuit.Durable d = rt.durable();
            d.put("/again/a", "one");
            d.put("/again/a/b", "below");
            d.put("/again/a", "two");
            assertThat(d.get("/again/a", String.class)).contains("two");
            assertThat(d.delete("/again/a")).isTrue();
            assertThat(d.get("/again/a", String.class)).isEmpty();
            assertThat(d.list("/again").directories()).containsExactly("/again/a");

            assertThatThrownBy(() -> d.put("/again/a", "three")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'/again/a' is a directory");

            assertThat(d.delete("/again/a/b")).isTrue();
            d.put("/again/a", "three");
            assertThat(d.get("/again/a", String.class)).contains("three");
        }
    }

    /** A listing that fails names the user's path, not the node in ZooKeeper (a probe found "/durable/jobs"). */
    @Test
    void aFailedListingNamesTheUsersPath() throws Exception {
        try (TestingServer own = new TestingServer(true);
             CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(own.getConnectString())
                 .zookeeperConnectTimeoutMs(1000).zookeeperRetries(0).build())) { // each listing fails at once: 12 s -> 5 s
            rt.durable().put("/jobs/cfg", "x");
            rt.anchors().file("/jobs/a", Map.of());
            own.stop();
            assertThatThrownBy(() -> rt.durable().list("/jobs")).isInstanceOf(io.jcircuit.anchor.NamespaceException.class)
                .hasMessageContaining("list /jobs ").hasMessageNotContaining("/durable");
            assertThatThrownBy(() -> rt.anchors().list("/jobs")).isInstanceOf(io.jcircuit.anchor.NamespaceException.class)
                .hasMessageContaining("list /jobs ").hasMessageNotContaining("/anchors");
        }
    }
}
