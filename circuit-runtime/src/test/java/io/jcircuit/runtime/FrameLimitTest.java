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
 * A call whose request or answer is larger than the frame limit fails alone, with a message that
 * says so. Sent anyway, such a frame is a protocol error to the peer, which ends the session and
 * fails every call and reference on it with "worker ... died".
 */
class FrameLimitTest {

    private static final int LIMIT = 64 * 1024;
    private static final String LARGE = "x".repeat(LIMIT + 1);

    public interface Big {
        String echo(String s);

        byte[] bytes(int n);

        CompletableFuture<String> echoAsync(String s);

        Counter counter();
    }

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void aRequestOrAnswerAboveTheLimitFailsThatCallAndNothingElse() throws Exception {
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
        CompletableFuture<String> async = big.echoAsync(LARGE);
        assertThatThrownBy(() -> async.get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().hasMessageContaining("above the frame limit");

        // the session is the one from before: the reference made on it still works
        assertThat(big.echo("small")).isEqualTo("small");
        assertThat(big.bytes(LIMIT / 2)).hasSize(LIMIT / 2);
        assertThat(counter.add(1)).isEqualTo(2);
        assertThat(client.links()).hasSize(1);
    }
}
