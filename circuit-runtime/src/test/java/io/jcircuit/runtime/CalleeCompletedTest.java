package io.jcircuit.runtime;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;
import io.jcircuit.CallEvent.Outcome;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.Deadline;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.codec.MessageCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Every request a callee is sent gets exactly one {@code completed} there, also one it could not read or
 * refused unread as it closed: {@code FAILED}, named {@link Dispatcher#UNREAD}. (Those had none: an
 * interceptor that began something in {@code incoming}, or counted requests, never heard of their end.)
 */
class CalleeCompletedTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    /** Names the class of what it is given. */
    public interface Names {
        String nameOf(Object value);
    }

    /** Returns once released. */
    public interface Gated {
        String pass(int i) throws InterruptedException;
    }

    @Test
    void aRequestTheCalleeCannotReadIsCompletedFailedThere() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Fixtures.Recorder served = new Fixtures.Recorder();
        b.intercept(served);
        b.listen("names", Names.class, value -> value.getClass().getSimpleName());
        Names names = a.dial(b.address(), "names", Names.class);

        assertThatThrownBy(() -> names.nameOf(CallTest.unknownElsewhere()))
            .isInstanceOf(io.jcircuit.UnreadableValueException.class);
        assertThat(names.nameOf(List.of())).isEqualTo("ListN");

        await().untilAsserted(() -> assertThat(incoming(served)).hasSize(2));
        assertThat(incoming(served)).filteredOn(e -> e.method().equals(Dispatcher.UNREAD)).singleElement()
            .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.FAILED))
            .satisfies(e -> assertThat(e.bytesIn()).isPositive())
            .satisfies(e -> assertThat(e.bytesOut()).as("the failure sent back").isPositive());
        assertThat(outcomes(served, "Names.nameOf(Object)")).containsExactly(Outcome.OK);
        assertThat(b.callMetrics().snapshot()).filteredOn(c -> c.method().equals(Dispatcher.UNREAD)).singleElement()
            .satisfies(c -> assertThat(c.failed()).isEqualTo(1));
    }

    /** A request that is not well formed ends its link, and is completed on the callee all the same. */
    @Test
    void aMalformedRequestIsCompletedFailedOnTheCalleeWhoseLinkItEnds() throws Exception {
        CircuitRuntime victim = runtimes.start();
        Fixtures.Recorder served = new Fixtures.Recorder();
        victim.intercept(served);
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            ByteBuf call = Unpooled.buffer().writeByte(MessageCodec.KIND_CALL).writeLong(7).writeLong(1)
                .writeLong(1_000_000_000L).writeBytes(new byte[] {(byte) 0xff, 0x13, 0x37, 0x00, 0x55});
            byte[] payload = new byte[call.readableBytes()];
            call.readBytes(payload);
            peer.send(peer.data(payload));

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(incoming(served)).singleElement()
                .satisfies(e -> assertThat(e.callId()).isEqualTo(7))
                .satisfies(e -> assertThat(e.method()).isEqualTo(Dispatcher.UNREAD))
                .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.FAILED)));
            assertThat(peer.closedByPeer()).isTrue();
        }
    }

    /**
     * A request that waited for an incoming slot when its callee closed is refused unrun: its caller knows it
     * was not run, and the callee completes it, FAILED, as it does the call that held the slot.
     */
    @Test
    void aRequestRefusedUnrunAtCloseIsCompletedFailedOnTheCallee() throws Exception {
        CircuitRuntime old = runtimes.start(c -> c.maxIncomingCallsPerLink(1));
        CircuitRuntime client = runtimes.start();
        Fixtures.Recorder served = new Fixtures.Recorder();
        old.intercept(served);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        old.listen("gated", Gated.class, i -> {
            entered.countDown();
            release.await();
            return "passed " + i;
        });
        Gated gated = client.dial(old.address(), "gated", Gated.class);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            threads.submit(() -> catchThrowable(() -> Deadline.within(Duration.ofSeconds(30), () -> gated.pass(1))));
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            var second = threads.submit(() -> catchThrowable(() -> Deadline.within(Duration.ofSeconds(30), () -> gated.pass(2))));
            PeerSession fromClient = old.peers().session(client.id(), client.address(), System.nanoTime() + 10_000_000_000L);
            await().until(() -> fromClient.incomingInFlight() == 2); // the second waits for the first's slot

            old.close();
            release.countDown();

            Throwable t = second.get(30, TimeUnit.SECONDS);
            assertThat(t).isInstanceOf(WorkerDiedException.class);
            assertThat(((WorkerDiedException) t).outcomeUnknown()).as("never run: " + t.getMessage()).isFalse();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(incoming(served)).hasSize(2));
        assertThat(incoming(served)).extracting(CallEvent::callId).doesNotHaveDuplicates();
        assertThat(incoming(served)).filteredOn(e -> e.method().equals(Dispatcher.UNREAD)).singleElement()
            .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.FAILED));
        assertThat(outcomes(served, "Gated.pass(int)")).hasSize(1);
    }

    /**
     * A call that waited at the door of a service frozen for a hot swap, let in after its callee began to
     * close, is refused unrun: completed FAILED under its method's name (it was THREW, named {@code ?}).
     */
    @Test
    void aCallRefusedAtItsObjectsDoorAsTheCalleeClosesIsCompletedFailedUnderItsName() throws Exception {
        CircuitRuntime old = runtimes.start();
        CircuitRuntime client = runtimes.start();
        Fixtures.Recorder served = new Fixtures.Recorder();
        old.intercept(served);
        old.quiesceLimit(Duration.ofSeconds(30)); // the close waits for the call at the door while the test lets it in
        old.listen("counter", HotSwapTest.Counter.class, new HotSwapTest.CounterV1());
        HotSwapTest.Counter counter = client.dial(old.address(), "counter", HotSwapTest.Counter.class);
        assertThat(counter.add(5)).isEqualTo(5);
        old.freezeService("counter", Duration.ofSeconds(5));
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var waiting = threads.submit(() -> catchThrowable(() -> counter.add(1)));
            await().atMost(Duration.ofSeconds(10)).until(() -> old.dispatcher().undecided() == 1); // at the door
            var closed = threads.submit(() -> {
                old.close(); // waits for the call at the door to be decided
                return null;
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> old.dispatcher().isClosing());
            old.reopenService("counter"); // let in after the close began

            Throwable t = waiting.get(30, TimeUnit.SECONDS);
            assertThat(t).isInstanceOf(WorkerDiedException.class).hasMessageContaining("is closing");
            assertThat(((WorkerDiedException) t).outcomeUnknown()).as("never run: " + t.getMessage()).isFalse();
            closed.get(30, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(outcomes(served, "Counter.add(long)")).containsExactly(Outcome.OK, Outcome.FAILED));
        assertThat(incoming(served)).extracting(CallEvent::method).doesNotContain(Dispatcher.UNREAD);
    }

    /** Answers at once, or with a stage that takes no dependent. */
    public interface Tally {
        String now(String s);

        CompletionStage<String> refusing(String s);
    }

    static final class TallyImpl implements Tally {
        @Override
        public String now(String s) {
            return s.toUpperCase();
        }

        @Override
        public CompletionStage<String> refusing(String s) {
            return new CompletableFuture<>() {
                @Override
                public CompletableFuture<String> whenComplete(BiConsumer<? super String, ? super Throwable> action) {
                    throw new IllegalStateException("this stage takes no dependent");
                }
            };
        }
    }

    /**
     * An interceptor with a bug that recurses without end when a call of a {@link Tally} is completed on the
     * callee: a {@link VirtualMachineError}, which the runtime does not contain as it does the others.
     */
    static final class Overflowing implements CallInterceptor {
        @Override
        public void completed(CallEvent event) {
            if (event.direction() == Direction.IN && event.method().startsWith("Tally.")) {
                throw new StackOverflowError("recursed in completed");
            }
        }
    }

    /** A callee whose first interceptor's completed overflows its stack, the recorder behind it, and its caller. */
    private record Overflow(CircuitRuntime callee, Fixtures.Recorder served, Tally tally, Fixtures.Counter counter) {
    }

    private Overflow overflow() {
        CircuitRuntime caller = runtimes.start();
        CircuitRuntime callee = runtimes.start(c -> c.maxIncomingCallsPerLink(1)); // one slot kept: the next call waits
        callee.intercept(new Overflowing());
        Fixtures.Recorder served = new Fixtures.Recorder();
        callee.intercept(served);
        callee.listen("tally", Tally.class, new TallyImpl());
        callee.listen("echo", Fixtures.Echo.class, new Fixtures.EchoImpl());
        Tally tally = caller.dial(callee.address(), "tally", Tally.class);
        Fixtures.Counter counter = caller.dial(callee.address(), "echo", Fixtures.Echo.class).makeCounter(); // held over the session
        assertThat(counter.add(1)).isEqualTo(1);
        return new Overflow(callee, served, tally, counter);
    }

    /**
     * An error that goes past the interceptors as a call is completed on its callee (a VirtualMachineError of
     * one of them, after the answer went) is logged: the interceptors behind it see the call completed, the
     * call gives its slot back, and the link goes on. It was taken for an internal error of the link, which
     * ended the link and its session, and those interceptors never heard of the call's end.
     */
    @Test
    void anErrorPastTheInterceptorsAsACallIsCompletedEndsNeitherTheLinkNorTheCompletedOfTheOthers() {
        Overflow o = overflow();

        assertThat(Deadline.within(Duration.ofSeconds(10), () -> o.tally().now("x"))).isEqualTo("X");
        assertThat(Deadline.within(Duration.ofSeconds(10), () -> o.tally().now("y"))).isEqualTo("Y");

        assertThat(o.counter().add(1)).as("the session, and the counter held over it, go on").isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(outcomes(o.served(), "Tally.now(String)")).containsExactly(Outcome.OK, Outcome.OK));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(o.callee().dispatcher().running()).isZero());
    }

    /**
     * The same for an asynchronous method whose stage takes no dependent, answered at once with what it threw
     * on the call thread, where the error came back up through the dispatcher's wait for the stage: that call
     * alone fails, once, and its slot is given back once.
     */
    @Test
    void anErrorPastTheInterceptorsAsAnAsynchronousCallIsAnsweredEndsNeitherTheLinkNorTheCompletedOfTheOthers() {
        Overflow o = overflow();

        for (String s : List.of("x", "y")) {
            CompletableFuture<String> f = Deadline.within(Duration.ofSeconds(10), () -> o.tally().refusing(s))
                .toCompletableFuture();
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("takes no dependent");
        }

        assertThat(o.counter().add(1)).as("the session, and the counter held over it, go on").isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(outcomes(o.served(), "Tally.refusing(String)")).containsExactly(Outcome.THREW, Outcome.THREW));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(o.callee().dispatcher().running()).isZero());
        assertThat(Deadline.within(Duration.ofSeconds(10), () -> o.tally().now("z"))).isEqualTo("Z");
    }

    /** The requests the callee served but the lookups of {@code dial}. */
    private static List<CallEvent> incoming(Fixtures.Recorder r) {
        return r.completed.stream().filter(e -> e.direction() == Direction.IN && !e.method().startsWith("dial "))
            .toList();
    }

    private static List<Outcome> outcomes(Fixtures.Recorder r, String method) {
        return incoming(r).stream().filter(e -> e.method().equals(method)).map(CallEvent::outcome).toList();
    }
}
