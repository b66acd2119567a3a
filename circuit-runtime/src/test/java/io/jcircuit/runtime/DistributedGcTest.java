package io.jcircuit.runtime;

import io.jcircuit.Circuit;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Exports are released when their importers drop them or die, and kept while anyone holds them. */
class DistributedGcTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    /** Collects until {@code check} holds: reference processing needs a GC and the cleaners to run. */
    private static void gcUntil(java.util.concurrent.Callable<Boolean> check) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return check.call();
        });
    }

    @Test
    void theExportersTableStaysBoundedWhileImportersCreateAndDropReferences() {
        CircuitRuntime exporter = runtimes.start();
        CircuitRuntime importer = runtimes.start();
        exporter.listen("echo", Echo.class, new EchoImpl());
        Echo echo = importer.dial(exporter.address(), "echo", Echo.class);
        int baseline = exporter.exports().size();

        int most = 0;
        for (int i = 1; i <= 20_000; i++) {
            assertThat(echo.makeCounter().add(1)).isEqualTo(1); // a fresh export, used once, dropped
            if (i % 2_000 == 0) {
                System.gc();
                most = Math.max(most, exporter.exports().size());
            }
        }
        System.out.println("distributed GC: 20000 references made and dropped; the exporter's table peaked at "
            + most + " sampled entries");
        assertThat(most).as("the table is bounded, not 20000 long").isLessThan(10_000);
        gcUntil(() -> exporter.exports().size() == baseline);
    }

    @Test
    void aServiceObjectIsCollectedOnceNoNameServesItAndNoCallerHoldsIt() {
        CircuitRuntime exporter = runtimes.start();
        CircuitRuntime importer = runtimes.start();
        int baseline = exporter.exports().size();
        exporter.listen("echo", Echo.class, new EchoImpl());
        Echo first = importer.dial(exporter.address(), "echo", Echo.class);
        for (int i = 0; i < 50; i++) {
            exporter.listen("echo", Echo.class, new EchoImpl()); // each replaces the one before
        }

        // before: every object ever listened stayed exported for good, unlisten or not
        gcUntil(() -> exporter.exports().size() == baseline + 2); // the one served, and the one a caller holds
        assertThat(first.echo("still")).as("a caller's reference outlives the name").isEqualTo("still");
        exporter.unlisten("echo");
        first = null;
        gcUntil(() -> exporter.exports().size() == baseline);
    }

    /** Makes a reference, slowly. */
    public interface SlowMaker {
        Runnable make() throws InterruptedException;
    }

    @Test
    void aReferenceInAnAnswerThatCameAfterTheDeadlineIsReleased() {
        CircuitRuntime exporter = runtimes.start();
        CircuitRuntime importer = runtimes.start();
        java.util.concurrent.CountDownLatch made = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch callerGaveUp = new java.util.concurrent.CountDownLatch(1);
        exporter.listen("slow", SlowMaker.class, () -> {
            callerGaveUp.await(30, java.util.concurrent.TimeUnit.SECONDS);
            Runnable r = Circuit.current().ref(Runnable.class, () -> { });
            made.countDown();
            return r;
        });
        int baseline = exporter.exports().size();
        SlowMaker slow = importer.dial(exporter.address(), "slow", SlowMaker.class);

        // long enough for the exporter to start the call on a loaded machine; it answers only after
        assertThatThrownBy(() -> io.jcircuit.Deadline.within(Duration.ofSeconds(1), slow::make))
            .isInstanceOf(io.jcircuit.DeadlineExceededException.class);
        callerGaveUp.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> made.getCount() == 0); // it was made, and is sent
        // before, the late answer was dropped unread: its hold, counted for the importer, stayed for good
        gcUntil(() -> exporter.exports().size() == baseline);
    }

    @Test
    void aHeldReferenceStaysUsableThroughCollections() {
        CircuitRuntime exporter = runtimes.start();
        CircuitRuntime importer = runtimes.start();
        exporter.listen("echo", Echo.class, new EchoImpl());
        Counter held = importer.dial(exporter.address(), "echo", Echo.class).makeCounter();
        held.add(5);
        for (int i = 0; i < 5; i++) {
            System.gc();
        }
        assertThat(held.add(1)).isEqualTo(6);
    }

    @Test
    void referencesHeldByARuntimeThatCloses() {
        CircuitRuntime exporter = runtimes.start();
        exporter.listen("echo", Echo.class, new EchoImpl());
        int baseline = exporter.exports().size();
        CircuitRuntime importer = runtimes.start();
        Echo echo = importer.dial(exporter.address(), "echo", Echo.class);
        Counter[] kept = {echo.makeCounter(), echo.makeCounter(), echo.makeCounter()};
        assertThat(exporter.exports().size()).isEqualTo(baseline + 3);

        importer.close(); // its holds go with it, although its proxies are still reachable here
        gcUntil(() -> exporter.exports().size() == baseline);
        assertThat(kept).hasSize(3);
    }

    /**
     * A closed runtime leaves nothing behind: not itself, and no thread. The cleaner's thread keeps
     * the actions it will run reachable, so an action that held its table held the whole runtime (one
     * runtime's worth of memory, and then one cleaner thread, per runtime a JVM had ever closed).
     */
    @Test
    void aClosedRuntimeIsCollected() {
        CircuitRuntime other = runtimes.start();
        other.listen("echo", Echo.class, new EchoImpl());
        java.lang.ref.WeakReference<CircuitRuntime> closed = useAndClose(other);
        gcUntil(() -> closed.get() == null);
    }

    /** Starts a runtime that exports and imports references, closes it, and returns it weakly. */
    private static java.lang.ref.WeakReference<CircuitRuntime> useAndClose(CircuitRuntime other) {
        CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().build());
        try {
            rt.listen("echo", Echo.class, new EchoImpl());
            assertThat(other.dial(rt.address(), "echo", Echo.class).makeCounter().add(2)).isEqualTo(2);
            assertThat(rt.dial(other.address(), "echo", Echo.class).makeCounter().add(3)).isEqualTo(3);
        } finally {
            rt.close();
        }
        return new java.lang.ref.WeakReference<>(rt);
    }

    /**
     * The same for a runtime that passed a reference on to a third runtime: the pin that keeps such a
     * reference's handler for {@link ImportTable#PIN_NANOS} goes when the runtime closes. It held the
     * handler, and through it the closed runtime, for a minute from a parked thread.
     */
    @Test
    void aClosedRuntimeThatPassedAReferenceOnIsCollected() {
        CircuitRuntime home = runtimes.start();
        CircuitRuntime receiver = runtimes.start();
        home.listen("echo", Echo.class, new EchoImpl());
        receiver.listen("echo", Echo.class, new EchoImpl());
        java.lang.ref.WeakReference<CircuitRuntime> closed = passOnAndClose(home, receiver);
        gcUntil(() -> closed.get() == null);
    }

    /** Starts a runtime that passes a reference into {@code home} on to {@code receiver}, closes it, and returns it weakly. */
    private static java.lang.ref.WeakReference<CircuitRuntime> passOnAndClose(CircuitRuntime home, CircuitRuntime receiver) {
        CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().build());
        try {
            Counter onHome = rt.dial(home.address(), "echo", Echo.class).makeCounter();
            rt.dial(receiver.address(), "echo", Echo.class).keep(onHome);
            assertThat(rt.imports().pinned()).isEqualTo(1);
        } finally {
            rt.close();
        }
        return new java.lang.ref.WeakReference<>(rt);
    }

    /**
     * Close ends every platform thread of the runtime, while the application still holds the closed
     * runtime and its references. Before, its cleaner's thread ({@code circuit-cleaner-ID}) ended only
     * once the runtime was collected.
     */
    @Test
    void closeEndsTheRuntimesThreadsWhileTheRuntimeAndItsReferencesAreStillHeld() {
        CircuitRuntime other = runtimes.start();
        other.listen("echo", Echo.class, new EchoImpl());
        CircuitRuntime rt = runtimes.start();
        rt.listen("echo", Echo.class, new EchoImpl());
        Counter exported = other.dial(rt.address(), "echo", Echo.class).makeCounter();
        Counter imported = rt.dial(other.address(), "echo", Echo.class).makeCounter();
        Counter local = rt.ref(Counter.class, new CounterImpl());
        String id = rt.id().toString();
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName).anyMatch(n -> n.contains(id));

        rt.close();

        await().untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
            .noneMatch(n -> n.contains(id)));
        assertThat(java.util.List.of(rt, exported, imported, local)).hasSize(4); // all still held
    }

    @Test
    void aThirdPartyReferenceOutlivesThePasser() {
        CircuitRuntime home = runtimes.start();
        CircuitRuntime passer = runtimes.start();
        CircuitRuntime receiver = runtimes.start();
        home.listen("echo", Echo.class, new EchoImpl());
        receiver.listen("echo", Echo.class, new EchoImpl());
        int baseline = home.exports().size();

        Counter onHome = passer.dial(home.address(), "echo", Echo.class).makeCounter();
        onHome.add(10);
        Echo atReceiver = passer.dial(receiver.address(), "echo", Echo.class);
        atReceiver.keep(onHome); // the receiver now holds it, acquired at home
        onHome = null;
        passer.close(); // the passer lets go entirely

        await().untilAsserted(() -> assertThat(home.exports().size()).isEqualTo(baseline + 1));
        Counter kept = ((EchoImpl) receiver.exports().get(firstHandle(receiver)).impl()).kept;
        assertThat(kept.add(1)).isEqualTo(11);

        kept = null;
        ((EchoImpl) receiver.exports().get(firstHandle(receiver)).impl()).kept = null;
        gcUntil(() -> home.exports().size() == baseline);
    }

    /** Makes {@code n} references. */
    public interface Maker {
        java.util.List<Counter> make(int n);
    }

    /** Looks at references and keeps none. */
    public interface Taker {
        int take(java.util.List<Counter> counters);
    }

    /**
     * A runtime that receives references from a third runtime and drops them at once holds none of
     * them at their home afterwards. Its acquires (queued, on threads of their own) and its release
     * (sent as soon as a collection found them unreachable) went out unordered; a release that came
     * first found nothing to take back, and the acquire after it stayed a hold for the receiver's whole
     * life (a leak probe: 86 of 1,500 references, each keeping its object on home).
     */
    @Test
    void referencesPassedToAThirdRuntimeAndDroppedAtOnceAreNotHeldByItAtHome() {
        CircuitRuntime home = runtimes.start();
        CircuitRuntime passer = runtimes.start();
        CircuitRuntime receiver = runtimes.start();
        home.listen("maker", Maker.class, n -> {
            java.util.List<Counter> made = new java.util.ArrayList<>();
            for (int k = 0; k < n; k++) {
                made.add(Circuit.current().ref(Counter.class, new CounterImpl()));
            }
            return made;
        });
        receiver.listen("taker", Taker.class, java.util.List::size);
        Maker maker = passer.dial(home.address(), "maker", Maker.class);
        Taker taker = passer.dial(receiver.address(), "taker", Taker.class);
        long made = 0;
        for (int round = 0; round < 5; round++) {
            assertThat(taker.take(maker.make(300))).isEqualTo(300);
            made += 300;
            System.gc(); // the receiver's releases go out while its acquires may still be on their way
        }
        long handles = made + 10; // the services' exports and the references made
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            System.gc();
            assertThat(heldBy(home, receiver, handles)).as("references home counts the receiver (which has none) holding")
                .isZero();
        });
        assertThat(receiver.imports().size()).isZero();
    }

    /** How many of the first {@code handles} exports of {@code home} {@code holder} holds. */
    private static int heldBy(CircuitRuntime home, CircuitRuntime holder, long handles) {
        int held = 0;
        for (long h = 1; h <= handles; h++) {
            if (home.exports().isHeldBy(h, holder.id())) {
                held++;
            }
        }
        return held;
    }

    /** Gives out the same object each time (one export while anyone holds it), and new ones. */
    public interface Giver {
        Counter same();

        Counter fresh();
    }

    private static Giver giver(CircuitRuntime home) {
        CounterImpl same = new CounterImpl();
        Giver giver = new Giver() {
            @Override
            public Counter same() {
                return Circuit.current().ref(Counter.class, same);
            }

            @Override
            public Counter fresh() {
                return Circuit.current().ref(Counter.class, new CounterImpl());
            }
        };
        home.listen("giver", Giver.class, giver);
        return giver;
    }

    /** A reference to export {@code handle} of {@code home} made by {@code passer}, with {@code address} for home's. */
    private static Counter at(CircuitRuntime passer, CircuitRuntime home, io.jcircuit.Address address, long handle) {
        return (Counter) java.lang.reflect.Proxy.newProxyInstance(Counter.class.getClassLoader(), new Class<?>[] {Counter.class},
            new RefHandler(passer, new io.jcircuit.codec.RefDescriptor(home.id(), address, handle, Counter.class.getName())));
    }

    /**
     * Accepts connections on loopback and never answers: keeps them ({@code keep}), or closes each at
     * once. {@link #close} refuses new ones and closes those kept.
     */
    private static final class Tarpit implements AutoCloseable {
        final java.net.ServerSocket server;
        final java.util.List<java.net.Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();

        Tarpit(boolean keep) throws java.io.IOException {
            server = new java.net.ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress());
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        java.net.Socket s = server.accept();
                        accepted.add(s);
                        if (!keep) {
                            s.close();
                        }
                    }
                } catch (java.io.IOException closed) {
                    // done
                }
            });
        }

        io.jcircuit.Address address() {
            return new io.jcircuit.Address("127.0.0.1", server.getLocalPort());
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            for (java.net.Socket s : accepted) {
                s.close();
            }
        }
    }

    /**
     * An acquire that was never sent (home not reached) adds nothing to what the handler's release gives
     * back. Home counts holds per runtime, not per handler: here the old handler, whose acquire is still
     * being dialed, is collected, a new handler of the same reference arrives from home and is counted,
     * then the acquire fails. Before, the old handler's release gave back one hold home had never
     * counted for it, the new handler's, and home collected the object that handler still calls.
     */
    @Test
    void aReleaseGivesBackNoHoldForAnAcquireThatWasNeverSent() throws Exception {
        CircuitRuntime home = runtimes.start();
        CircuitRuntime passer = runtimes.start();
        CircuitRuntime receiver = runtimes.start(c -> c.connectTimeoutMs(60_000));
        giver(home);
        EchoImpl keeper = new EchoImpl();
        receiver.listen("echo", Echo.class, keeper);
        try (Tarpit tarpit = new Tarpit(true)) {
            Counter held = passer.dial(home.address(), "giver", Giver.class).same(); // home counts the passer
            long handle = CircuitRuntime.descriptorOfReference(held).handle();
            // the same reference, with an address where home does not answer (its network away, say)
            passer.dial(receiver.address(), "echo", Echo.class).keep(at(passer, home, tarpit.address(), handle));
            await().atMost(Duration.ofSeconds(10)).until(() -> tarpit.accepted.size() == 1); // the acquire's dial hangs
            keeper.kept = null;
            gcUntil(() -> receiver.imports().size() == 0); // collected; its release waits for the acquire

            Giver giver = receiver.dial(home.address(), "giver", Giver.class);
            Counter again = giver.same(); // a new handler of the same reference, sent by home, which counts it
            assertThat(CircuitRuntime.descriptorOfReference(again).handle()).isEqualTo(handle);
            held = null;
            gcUntil(() -> !home.exports().isHeldBy(handle, passer.id())); // only the receiver holds it now
            long acquires = receiver.acquires().requested();

            tarpit.close(); // the dial fails: the acquire was never sent
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.acquires().answered() == acquires);
            // one home sends and the receiver drops now: its release goes after any the old handler queued
            long marker = CircuitRuntime.descriptorOfReference(giver.fresh()).handle();
            gcUntil(() -> home.exports().get(marker) == null);

            assertThat(home.exports().holds(handle, receiver.id())).as("holds home counts for the receiver").isEqualTo(1);
            assertThat(again.add(2)).isEqualTo(2);
        }
    }

    /**
     * A reference whose home could not be reached when it arrived (its acquire was not sent) is acquired
     * once home can be: its acquire is tried again while the reference is held. Before, it was given up
     * at once, and home, counting nothing for the receiver, collected the object once the passer let go,
     * while the receiver still called it.
     */
    @Test
    void aReferenceWhoseHomeCouldNotBeReachedWhenItArrivedIsAcquiredOnceItCanBe() throws Exception {
        CircuitRuntime home = runtimes.start();
        CircuitRuntime passer = runtimes.start();
        CircuitRuntime receiver = runtimes.start();
        giver(home);
        EchoImpl keeper = new EchoImpl();
        receiver.listen("echo", Echo.class, keeper);
        try (Tarpit cut = new Tarpit(false)) { // home's address as the reference gives it: the network closes each connection
            Counter held = passer.dial(home.address(), "giver", Giver.class).same();
            long handle = CircuitRuntime.descriptorOfReference(held).handle();
            passer.dial(receiver.address(), "echo", Echo.class).keep(at(passer, home, cut.address(), handle));
            await().atMost(Duration.ofSeconds(10)).until(() -> !cut.accepted.isEmpty()); // the acquire's dial: cut
            receiver.dial(home.address(), "giver", Giver.class); // home can be reached now: the receiver is linked to it

            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.acquires().answered() == receiver.acquires().requested());
            assertThat(home.exports().holds(handle, receiver.id())).as("holds home counts for the receiver").isEqualTo(1);
            held = null;
            gcUntil(() -> !home.exports().isHeldBy(handle, passer.id()));
            assertThat(home.exports().get(handle)).as("the object the receiver holds").isNotNull();
            assertThat(keeper.kept.add(2)).isEqualTo(2);
        }
    }

    @Test
    void aPublishedServiceIsNeverCollected() {
        CircuitRuntime exporter = runtimes.start();
        CircuitRuntime importer = runtimes.start();
        exporter.listen("counter", Counter.class, new CounterImpl());
        importer.dial(exporter.address(), "counter", Counter.class).add(1);
        for (int i = 0; i < 5; i++) {
            System.gc();
        }
        assertThat(importer.dial(exporter.address(), "counter", Counter.class).add(1)).isEqualTo(2);
    }

    // ---- references carried by a call or an answer that never arrives ----

    /** A value whose writeObject throws: its sender cannot write it. */
    public static final class Unwritable implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        @java.io.Serial
        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            throw new java.io.NotSerializableException("not today");
        }
    }

    /** Takes references along with other values, and gives some back. */
    public interface Carrier {
        String take(Counter c, Object v);

        String takeLast(Object v, Counter c);

        String takeAround(Counter first, Object v, Counter last);

        void keep(Counter c);

        /** A reference of the callee's own and {@code bytes} bytes. */
        Object[] give(int bytes);

        /** A value the caller cannot read, then a reference of the callee's own. */
        Object[] giveUnreadable();
    }

    private static Carrier carrier(CircuitRuntime home, CircuitRuntime caller) {
        home.listen("carrier", Carrier.class, new Carrier() {
            volatile Counter kept;

            @Override
            public String take(Counter c, Object v) {
                return "took";
            }

            @Override
            public String takeLast(Object v, Counter c) {
                return "took";
            }

            @Override
            public String takeAround(Counter first, Object v, Counter last) {
                return "took";
            }

            @Override
            public void keep(Counter c) {
                kept = c;
            }

            @Override
            public Object[] give(int bytes) {
                return new Object[] {Circuit.current().ref(Counter.class, new CounterImpl()), new byte[bytes]};
            }

            @Override
            public Object[] giveUnreadable() {
                return new Object[] {CallTest.unknownElsewhere(), Circuit.current().ref(Counter.class, new CounterImpl())};
            }
        });
        return caller.dial(home.address(), "carrier", Carrier.class);
    }

    private static CircuitRuntime smallFrames(RuntimesExtension runtimes) {
        return runtimes.start(c -> c.maxFrameBytes(64 * 1024));
    }

    /** The control for the tests below: calls and answers that arrive leave no hold once dropped. */
    @Test
    void callsAndAnswersThatArriveLeaveNoHoldOnceDropped() {
        CircuitRuntime a = smallFrames(runtimes);
        CircuitRuntime b = smallFrames(runtimes);
        Carrier carrier = carrier(b, a);
        int baselineA = a.exports().size();
        int baselineB = b.exports().size();

        assertThat(carrier.take(a.ref(Counter.class, new CounterImpl()), "x")).isEqualTo("took");
        assertThat(carrier.takeLast("x", a.ref(Counter.class, new CounterImpl()))).isEqualTo("took");
        assertThat(carrier.give(10)).hasSize(2);

        gcUntil(() -> a.exports().size() == baselineA && b.exports().size() == baselineB);
    }

    /**
     * A call with a value its caller cannot write is not sent; the reference written before that value
     * was counted as held by the callee, which never got it, and kept its object for the callee's life.
     */
    @Test
    void aCallThatCouldNotBeWrittenLeavesNoHoldOnAReferenceItCarried() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Carrier carrier = carrier(b, a);
        int baseline = a.exports().size();

        assertThatThrownBy(() -> carrier.take(a.ref(Counter.class, new CounterImpl()), new Unwritable()))
            .isInstanceOf(io.jcircuit.UnwritableValueException.class);

        gcUntil(() -> a.exports().size() == baseline);
    }

    @Test
    void aCallTooLargeToSendLeavesNoHoldOnAReferenceItCarried() {
        CircuitRuntime a = smallFrames(runtimes);
        CircuitRuntime b = smallFrames(runtimes);
        Carrier carrier = carrier(b, a);
        int baseline = a.exports().size();

        assertThatThrownBy(() -> carrier.take(a.ref(Counter.class, new CounterImpl()), "x".repeat(70_000)))
            .isInstanceOf(io.jcircuit.FrameTooLargeException.class);

        gcUntil(() -> a.exports().size() == baseline);
    }

    /** The callee's answer is too large for a frame: the caller gets a failure, and the callee keeps no hold for it. */
    @Test
    void anAnswerTooLargeToSendLeavesNoHoldOnAReferenceItCarried() {
        CircuitRuntime a = smallFrames(runtimes);
        CircuitRuntime b = smallFrames(runtimes);
        Carrier carrier = carrier(b, a);
        int baseline = b.exports().size();

        assertThatThrownBy(() -> carrier.give(70_000)).hasMessageContaining("above the frame limit");

        gcUntil(() -> b.exports().size() == baseline);
    }

    /**
     * The callee cannot load the class of an argument before the reference: it never reads the
     * reference, and releases the hold its caller counted for it.
     */
    @Test
    void aRequestTheCalleeCouldNotReadLeavesNoHoldOnAReferenceItCarried() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Carrier carrier = carrier(b, a);
        int baseline = a.exports().size();

        assertThatThrownBy(() -> carrier.takeLast(CallTest.unknownElsewhere(), a.ref(Counter.class, new CounterImpl())))
            .isInstanceOf(io.jcircuit.UnreadableValueException.class);

        gcUntil(() -> a.exports().size() == baseline);
    }

    @Test
    void anAnswerTheCallerCouldNotReadLeavesNoHoldOnAReferenceItCarried() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Carrier carrier = carrier(b, a);
        int baseline = b.exports().size();

        assertThatThrownBy(carrier::giveUnreadable).isInstanceOf(io.jcircuit.UnreadableValueException.class);

        gcUntil(() -> b.exports().size() == baseline);
    }

    /**
     * A request read in part: the reference read before the value that failed is the callee's now (its
     * handler releases it once dropped), and is not released twice; the one after it is released at
     * once. Checked while the callee still holds the first one through an earlier call.
     */
    @Test
    void aRequestReadInPartReleasesOnlyTheReferencesItDidNotRead() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Carrier carrier = carrier(b, a);
        int baseline = a.exports().size();
        Counter first = a.ref(Counter.class, new CounterImpl());
        long firstHandle = CircuitRuntime.descriptorOfReference(first).handle();
        carrier.keep(first);

        long lastHandle = takeAroundUnreadable(carrier, a, first);

        gcUntil(() -> a.exports().get(lastHandle) == null); // released by the callee, in the batch any other would go in
        assertThat(a.exports().holds(firstHandle, b.id())).as("the kept one's hold, and the one read before the failure")
            .isEqualTo(2);
        carrier.keep(null);
        first = null;
        gcUntil(() -> a.exports().size() == baseline);
    }

    /** Sends {@code first}, a value the callee cannot read and a new reference; returns that reference's handle. */
    private static long takeAroundUnreadable(Carrier carrier, CircuitRuntime a, Counter first) {
        Counter last = a.ref(Counter.class, new CounterImpl());
        assertThatThrownBy(() -> carrier.takeAround(first, CallTest.unknownElsewhere(), last))
            .isInstanceOf(io.jcircuit.UnreadableValueException.class);
        return CircuitRuntime.descriptorOfReference(last).handle();
    }

    @Test
    void aGoTheWorkerCouldNotReadLeavesNoHoldOnAReferenceItCaptured() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        int baseline = a.exports().size();

        assertThatThrownBy(() -> goWithUnreadable(a, b)).isInstanceOf(io.jcircuit.UnreadableValueException.class);

        gcUntil(() -> a.exports().size() == baseline);
    }

    private static int goWithUnreadable(CircuitRuntime a, CircuitRuntime b) {
        Object unknown = CallTest.unknownElsewhere();
        Counter ref = a.ref(Counter.class, new CounterImpl());
        return a.worker(b.address()).go(() -> java.util.Objects.hashCode(unknown) + ref.add(1));
    }

    /** A channel's item that its owner cannot read fails alone, and leaves no hold on a reference it carried. */
    @Test
    void aChannelItemTheOwnerCouldNotReadLeavesNoHoldOnAReferenceItCarried() {
        CircuitRuntime owner = runtimes.start();
        CircuitRuntime user = runtimes.start();
        io.jcircuit.Chan<Object> chan = owner.makeChan(4);
        owner.listen("objects", ChanTest.ObjectsSource.class, () -> chan);
        io.jcircuit.Chan<Object> remote = user.dial(owner.address(), "objects", ChanTest.ObjectsSource.class).chan();
        int baseline = user.exports().size();

        assertThatThrownBy(() -> sendUnreadableWithReference(remote, user)).isInstanceOf(io.jcircuit.UnreadableValueException.class);

        assertThat(chan.poll()).isEmpty();
        gcUntil(() -> user.exports().size() == baseline);
    }

    /** Sends one item, a list of a value the owner cannot read and a reference of {@code user}'s, and flushes it. */
    private static void sendUnreadableWithReference(io.jcircuit.Chan<Object> remote, CircuitRuntime user) {
        remote.send(java.util.List.of(CallTest.unknownElsewhere(), user.ref(Counter.class, new CounterImpl())));
        remote.flush(); // the item may have lingered in the copy's buffer
    }

    private static long firstHandle(CircuitRuntime rt) {
        for (long h = 1; h < 100; h++) {
            if (rt.exports().get(h) != null && rt.exports().get(h).impl() instanceof EchoImpl) {
                return h;
            }
        }
        throw new IllegalStateException("no echo export on " + rt);
    }

    public interface LateMaker {
        Counter make();

        Counter makeSlowly() throws InterruptedException;
    }

    /**
     * A callee whose caller's runtime ended while it ran answers with a fresh reference: the hold for the
     * dead caller is counted after its holds were dropped, and the frame, handed to a link that has ended,
     * is not delivered. Its holds are undone then (before, the export stayed for the callee's life).
     */
    @Test
    void anAnswerSentAfterTheCallersSessionEndedLeavesNoHold() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        b.listen("maker", LateMaker.class, new LateMaker() {
            @Override
            public Counter make() {
                return Circuit.current().ref(Counter.class, new CounterImpl());
            }

            @Override
            public Counter makeSlowly() throws InterruptedException {
                entered.countDown();
                release.await();
                answered.incrementAndGet();
                return Circuit.current().ref(Counter.class, new CounterImpl());
            }
        });
        int baseline = b.exports().size();
        LateMaker maker = a.dial(b.address(), "maker", LateMaker.class);
        Counter held = maker.make(); // a holds one of b's: its end shows when b has dropped a's holds
        long heldHandle = CircuitRuntime.descriptorOfReference(held).handle();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            threads.submit(() -> org.assertj.core.api.Assertions.catchThrowable(maker::makeSlowly));
            assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            a.close();
            await().until(() -> !b.exports().isHeldBy(heldHandle, a.id())); // b's dropHolder(a) ran
            release.countDown();
            await().until(() -> answered.get() == 1 && b.activity().running() == 0);
        }

        gcUntil(() -> b.exports().size() == baseline);
    }
}
