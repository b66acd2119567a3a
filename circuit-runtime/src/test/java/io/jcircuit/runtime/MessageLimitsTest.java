package io.jcircuit.runtime;

import io.jcircuit.CircuitException;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A call whose request or answer is larger than the frame limit, or nests values deeper than a
 * runtime reads, fails alone, with a message that says so. Such a message used to be a protocol
 * error to the peer, which ended the session and failed every call and reference on it with "worker
 * ... has no session any more".
 */
class MessageLimitsTest {

    private static final int LIMIT = 64 * 1024;
    private static final String LARGE = "x".repeat(LIMIT + 1);

    public interface Big {
        String echo(String s);

        byte[] bytes(int n);

        CompletableFuture<String> echoAsync(String s);

        Counter counter();

        int length(Chain c);

        Chain chain(int length);

        /** Throws an exception whose message is {@code n} characters long. */
        void fail(int n);
    }

    /** Each link nests the next: a value as deep as it is long. */
    public record Chain(int value, Chain next) {
        static Chain of(int length) {
            Chain head = null;
            for (int i = 0; i < length; i++) {
                head = new Chain(i, head);
            }
            return head;
        }

        int length() {
            int n = 0;
            for (Chain c = this; c != null; c = c.next) {
                n++;
            }
            return n;
        }
    }

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void aRequestOrAnswerTooLargeOrTooDeepFailsThatCallAndNothingElse() throws Exception {
        CircuitRuntime server = runtimes.start(b -> b.maxFrameBytes(LIMIT));
        CircuitRuntime client = runtimes.start(b -> b.maxFrameBytes(LIMIT));
        Counter kept = new CounterImpl();
        server.listen("big", Big.class, new Big() {
            @Override
            public String echo(String s) {
                return s;
            }

            @Override
            public byte[] bytes(int n) {
                return new byte[n];
            }

            @Override
            public CompletableFuture<String> echoAsync(String s) {
                return CompletableFuture.completedFuture(s);
            }

            @Override
            public Counter counter() {
                return server.ref(Counter.class, kept);
            }

            @Override
            public int length(Chain c) {
                return c.length();
            }

            @Override
            public Chain chain(int length) {
                return Chain.of(length);
            }

            @Override
            public void fail(int n) {
                throw new IllegalStateException("x".repeat(n));
            }
        });
        Big big = client.dial(server.address(), "big", Big.class);
        Counter counter = big.counter();
        assertThat(counter.add(1)).isEqualTo(1);

        assertThatThrownBy(() -> big.echo(LARGE))
            .isInstanceOf(CircuitException.class)
            .hasMessageContaining("above the frame limit of 65,536 bytes");
        assertThatThrownBy(() -> big.bytes(LIMIT + 1))
            .hasMessageContaining("could not send the result")
            .hasMessageContaining("above the frame limit of 65,536 bytes");
        // an exception too large says it was one, and which (a probe read "the result")
        assertThatThrownBy(() -> big.fail(LIMIT + 1)).isInstanceOf(io.jcircuit.FrameTooLargeException.class)
            .hasMessageContaining("could not send the exception java.lang.IllegalStateException thrown for the call")
            .hasMessageContaining("above the frame limit of 65,536 bytes");
        CompletableFuture<String> async = big.echoAsync(LARGE);
        assertThatThrownBy(() -> async.get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().hasMessageContaining("above the frame limit");

        assertThat(big.length(Chain.of(400))).as("hundreds of levels deep").isEqualTo(400);
        assertThat(big.chain(400).length()).isEqualTo(400);
        assertThatThrownBy(() -> big.length(Chain.of(600)))
            .hasMessageContaining("could not decode the request")
            .hasMessageContaining("nests values deeper than this runtime reads");
        assertThatThrownBy(() -> big.chain(600))
            .isInstanceOf(CircuitException.class)
            .hasMessageContaining("could not be read")
            .hasMessageContaining("nests values deeper than this runtime reads");

        // the session is the one from before: the reference made on it still works
        assertThat(big.echo("small")).isEqualTo("small");
        assertThat(big.bytes(LIMIT / 2)).hasSize(LIMIT / 2);
        assertThat(counter.add(1)).isEqualTo(2);
        assertThat(client.links()).hasSize(1);
    }
}
