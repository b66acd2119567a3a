package io.jcircuit.runtime;

import io.jcircuit.codec.Message;
import io.jcircuit.link.Link;
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
}
