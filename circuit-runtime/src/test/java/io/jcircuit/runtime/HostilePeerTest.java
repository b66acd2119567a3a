package io.jcircuit.runtime;

import io.jcircuit.codec.Message;
import io.jcircuit.link.Link;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Peers that speak the protocol but misbehave, on raw sockets: what they can make a runtime keep or
 * do stays bounded, and the runtime serves them again once they behave.
 */
class HostilePeerTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    private static long handleOf(CircuitRuntime rt, Class<?> iface) {
        for (long h = 1; h < 1000; h++) {
            Export e = rt.exports().get(h);
            if (e != null && e.iface() == iface) {
                return h;
            }
        }
        throw new AssertionError("no export of " + iface + " on " + rt);
    }

    /** An asynchronous echo whose answers the test completes, from a thread of its own. */
    public interface LaterEcho {
        java.util.concurrent.CompletableFuture<String> echo(String s);
    }

    static final class LaterEchoImpl implements LaterEcho {
        final java.util.Queue<java.util.Map.Entry<String, java.util.concurrent.CompletableFuture<String>>> asked =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

        @Override
        public java.util.concurrent.CompletableFuture<String> echo(String s) {
            var f = new java.util.concurrent.CompletableFuture<String>();
            asked.add(java.util.Map.entry(s, f));
            return f;
        }
    }

    private static final long REPLAY_LIMIT = 1 << 20;
    private static final int ANSWER_BYTES = 64 * 1024;
    private static final int CALLS = 48; // 3 MiB of answers

    private CircuitRuntime victimWithASmallReplayLimit() {
        return runtimes.start(c -> c.maxFrameBytes(256 * 1024).link().maxUnackedBytes(REPLAY_LIMIT));
    }

    private static void sendCalls(RawPeer peer, CircuitRuntime victim, long handle, long timeoutNanos) throws Exception {
        String big = "x".repeat(ANSWER_BYTES);
        for (int i = 1; i <= CALLS; i++) {
            peer.send(victim, new Message.Call(i, handle, "echo(java.lang.String)", new Object[] {big}, timeoutNanos, null));
        }
    }

    /** Every call has either answered or waits to, and the link to the peer takes no more: then at most the limit went. */
    private static void awaitAnswersHeldAtTheLimit(RawPeer peer, CircuitRuntime victim, Link link) {
        await().atMost(Duration.ofSeconds(10)).until(() ->
            peer.dataRead() + victim.dispatcher().running() == CALLS && !link.isWritable());
        assertThat(peer.dataRead() * ANSWER_BYTES)
            .as("bytes of answers sent to a peer that acknowledges nothing (replay limit %d)", REPLAY_LIMIT)
            .isLessThanOrEqualTo(REPLAY_LIMIT + 2L * ANSWER_BYTES);
    }

    private static Link linkTo(CircuitRuntime rt, RawPeer peer) {
        return rt.links().stream().filter(l -> l.peer().equals(peer.id())).findFirst().orElseThrow();
    }

    /**
     * "A session keeps at most 64 MiB for replay; past either, senders wait": answers too. A peer that
     * reads every answer and acknowledges none gets answers up to the replay limit; the rest wait, each
     * within its call's deadline, and go once the peer acknowledges.
     */
    @Test
    void shouldHoldAnswersToThePeerAtTheReplayLimitUntilItAcknowledges() throws Exception {
        CircuitRuntime victim = victimWithASmallReplayLimit();
        victim.listen("echo", Echo.class, new EchoImpl());
        try (RawPeer peer = new RawPeer(victim.address()).handshake().readInBackground()) {
            sendCalls(peer, victim, handleOf(victim, Echo.class), 30_000_000_000L);
            Link link = linkTo(victim, peer);
            awaitAnswersHeldAtTheLimit(peer, victim, link);

            peer.acknowledgeFromNowOn();
            await().atMost(Duration.ofSeconds(10)).until(() -> peer.dataRead() == CALLS);
            await().atMost(Duration.ofSeconds(10)).until(() -> victim.dispatcher().running() == 0);
            assertThat(link.isOpen()).isTrue();
        }
    }

    /**
     * The same for asynchronous methods, whose futures complete on threads that must not wait (here the
     * test's): the answers that cannot go wait on call threads, and those whose caller's deadline passes
     * first are dropped, freeing their calls' slots.
     */
    @Test
    void shouldHoldAsynchronousAnswersAtTheReplayLimitWithoutBlockingTheThreadThatCompletesThem() throws Exception {
        CircuitRuntime victim = victimWithASmallReplayLimit();
        LaterEchoImpl impl = new LaterEchoImpl();
        victim.listen("echo", LaterEcho.class, impl);
        try (RawPeer peer = new RawPeer(victim.address()).handshake().readInBackground()) {
            sendCalls(peer, victim, handleOf(victim, LaterEcho.class), 2_000_000_000L);
            await().atMost(Duration.ofSeconds(10)).until(() -> impl.asked.size() == CALLS);
            Thread completer = Thread.ofPlatform().start(() -> impl.asked.forEach(e -> e.getValue().complete(e.getKey())));
            assertThat(completer.join(Duration.ofSeconds(5))).as("completing the futures does not block").isTrue();
            awaitAnswersHeldAtTheLimit(peer, victim, linkTo(victim, peer));

            // nobody acknowledges: past the callers' deadline the answers still waiting are dropped
            await().atMost(Duration.ofSeconds(10)).until(() -> victim.dispatcher().running() == 0);
            assertThat(peer.dataRead() * ANSWER_BYTES).isLessThanOrEqualTo(REPLAY_LIMIT + 2L * ANSWER_BYTES);
        }
    }

    /**
     * One message that carries references to many homes (here 300 made-up workers, all at one address
     * that accepts connections and never answers) makes the runtime dial at most 16 of them at a time
     * for the acquires, not one connection per reference at once; a reference from another runtime to a
     * real home is acquired meanwhile, its sender's dials being its own.
     */
    @Test
    void shouldBoundTheDialsThatTheReferencesOfOneMessageCause() throws Exception {
        CircuitRuntime victim = runtimes.start(c -> c.connectTimeoutMs(10_000));
        victim.listen("echo", Echo.class, new EchoImpl());
        java.util.List<java.net.Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (java.net.ServerSocket tarpit = new java.net.ServerSocket(0, 1024, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        accepted.add(tarpit.accept()); // takes the connection, and never answers the HELLO
                    }
                } catch (java.io.IOException closed) {
                    // done
                }
            });
            io.jcircuit.Address there = new io.jcircuit.Address("127.0.0.1", tarpit.getLocalPort());
            java.util.List<Object> refs = new java.util.ArrayList<>();
            for (int i = 0; i < 300; i++) {
                RefHandler h = new RefHandler(victim, new io.jcircuit.codec.RefDescriptor(io.jcircuit.WorkerId.random(), there,
                    1, Runnable.class.getName()));
                refs.add(java.lang.reflect.Proxy.newProxyInstance(Runnable.class.getClassLoader(), new Class<?>[] {Runnable.class}, h));
            }
            try (RawPeer peer = new RawPeer(victim.address()).handshake().readInBackground()) {
                peer.send(victim, new Message.Call(1, handleOf(victim, Echo.class),
                    "appendAndReturn(java.util.List,java.lang.String)", new Object[] {refs, "x"}, 30_000_000_000L, null));
                // once every reference is taken in (a home each), the dials it decided to start have started
                await().atMost(Duration.ofSeconds(10)).until(() -> victim.acquires().homesOwed() == refs.size());
                assertThat(victim.acquires().dialing()).as("homes dialed at once for the references of one message")
                    .isEqualTo(Acquires.MAX_DIALS_PER_SENDER);
                await().atMost(Duration.ofSeconds(10)).until(() -> accepted.size() >= Acquires.MAX_DIALS_PER_SENDER);
                assertThat(accepted.size()).as("connections opened at once for the references of one message")
                    .isLessThanOrEqualTo(Acquires.MAX_DIALS_PER_SENDER);

                CircuitRuntime home = runtimes.start();
                CircuitRuntime passer = runtimes.start();
                home.listen("echo", Echo.class, new EchoImpl());
                Counter counter = passer.dial(home.address(), "echo", Echo.class).makeCounter();
                passer.dial(victim.address(), "echo", Echo.class).keep(counter);
                long handle = ((RefHandler) java.lang.reflect.Proxy.getInvocationHandler(counter)).target().handle();
                await().atMost(Duration.ofSeconds(5)).until(() -> home.exports().isHeldBy(handle, victim.id()));
            } finally {
                for (java.net.Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    /**
     * References to a home nobody answers at (an address that takes connections and never answers),
     * passed again and again, leave no queue of acquires behind once a dial for them has failed: those
     * queued while it was tried are answered with it. Before, each waited for a dial of its own, one
     * after the other (1 s each here, 200 s for these), and the queue grew for as long as they came.
     */
    @Test
    void shouldNotQueueAnAcquirePerReferenceToAHomeThatCannotBeReached() throws Exception {
        CircuitRuntime victim = runtimes.start(c -> c.connectTimeoutMs(1_000));
        victim.listen("echo", Echo.class, new EchoImpl());
        java.util.List<java.net.Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (java.net.ServerSocket tarpit = new java.net.ServerSocket(0, 1024, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        accepted.add(tarpit.accept()); // takes the connection, and never answers the HELLO
                    }
                } catch (java.io.IOException closed) {
                    // done
                }
            });
            CircuitRuntime passer = runtimes.start();
            io.jcircuit.Address there = new io.jcircuit.Address("127.0.0.1", tarpit.getLocalPort());
            Counter stale = (Counter) java.lang.reflect.Proxy.newProxyInstance(Counter.class.getClassLoader(),
                new Class<?>[] {Counter.class}, new RefHandler(passer,
                    new io.jcircuit.codec.RefDescriptor(io.jcircuit.WorkerId.random(), there, 1, Counter.class.getName())));
            Echo echo = passer.dial(victim.address(), "echo", Echo.class);
            try {
                for (int i = 0; i < 200; i++) {
                    echo.keep(stale); // one acquire owed at the unreachable home each time
                }
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(victim.acquires().queued()).as("acquires still queued").isZero());
                System.out.println("200 references to an unreachable home: " + accepted.size() + " dials");
            } finally {
                for (java.net.Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    /** Keeps what it is given. */
    public interface Keeper {
        void keepAll(java.util.List<Counter> counters);
    }

    static final class KeeperImpl implements Keeper {
        volatile java.util.List<Counter> kept;

        @Override
        public void keepAll(java.util.List<Counter> counters) {
            kept = counters;
        }
    }

    /** The bound costs a legitimate message nothing: many references to a few real homes are all acquired. */
    @Test
    void shouldAcquireEveryReferenceOfAMessageThatCarriesManyToAFewHomes() {
        CircuitRuntime receiver = runtimes.start();
        receiver.listen("keeper", Keeper.class, new KeeperImpl());
        CircuitRuntime passer = runtimes.start();
        java.util.List<Counter> counters = new java.util.ArrayList<>();
        java.util.Map<Counter, CircuitRuntime> homeOf = new java.util.HashMap<>();
        for (int h = 0; h < 3; h++) {
            CircuitRuntime home = runtimes.start();
            home.listen("echo", Echo.class, new EchoImpl());
            Echo echo = passer.dial(home.address(), "echo", Echo.class);
            for (int i = 0; i < 100; i++) {
                Counter c = echo.makeCounter();
                counters.add(c);
                homeOf.put(c, home);
            }
        }
        passer.dial(receiver.address(), "keeper", Keeper.class).keepAll(counters);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(counters)
            .as("references held by the receiver at their homes")
            .allMatch(c -> homeOf.get(c).exports().isHeldBy(
                ((RefHandler) java.lang.reflect.Proxy.getInvocationHandler(c)).target().handle(), receiver.id())));
    }

    /**
     * A flood of connections that never start their handshake, held open, against a runtime with a cluster
     * key that allows 8 to wait at once: it closes the oldest past the bound (before, it held each for the
     * connect timeout, and a flood could use up its file descriptors), and a genuine runtime still links
     * and calls it while the flood lasts.
     */
    @Test
    void aFloodOfSilentConnectionsHasItsOldestClosedAndCallsStillGetThrough() throws Exception {
        io.jcircuit.link.tls.ClusterKey key = io.jcircuit.link.tls.ClusterKey.generate();
        int bound = 8;
        int flood = 20;
        // a minute for a handshake: any silent connection the victim closes within the test, it closed for the bound
        CircuitRuntime victim = runtimes.start(c -> c.clusterKey(key).connectTimeoutMs(60_000).link().maxPendingConnections(bound));
        victim.listen("echo", Echo.class, new EchoImpl());
        CircuitRuntime caller = runtimes.start(c -> c.clusterKey(key));
        java.util.List<java.net.Socket> silent = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < flood; i++) { // one after the other: the victim accepts them in this order
                java.net.Socket s = new java.net.Socket();
                silent.add(s);
                s.connect(new java.net.InetSocketAddress(victim.address().host(), victim.address().port()));
                s.setSoTimeout(10_000);
            }
            for (int i = 0; i < flood - bound; i++) {
                assertThat(silent.get(i).getInputStream().read())
                    .as("silent connection %d of %d, among the oldest past the bound of %d, was closed by the runtime", i, flood, bound)
                    .isEqualTo(-1);
            }

            Echo echo = caller.dial(victim.address(), "echo", Echo.class);
            assertThat(echo.echo("through the flood")).isEqualTo("through the flood");
            assertThat(silent.get(flood - bound).getInputStream().read())
                .as("the caller's connection made room by closing the oldest silent one left").isEqualTo(-1);
            assertThat(echo.echo("and again")).isEqualTo("and again");
        } finally {
            for (java.net.Socket s : silent) {
                s.close();
            }
        }
    }
}
