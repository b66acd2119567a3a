package io.jcircuit.runtime;

import io.jcircuit.Deadline;
import io.jcircuit.DeadlineExceededException;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeadlineTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void shouldFailACallThatOutlivesItsScopeDeadline() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> Deadline.within(Duration.ofMillis(100), () -> echo.block(10_000)))
            .isInstanceOf(DeadlineExceededException.class)
            .hasMessageContaining(b.id().toString())
            .satisfies(t -> assertThat(((DeadlineExceededException) t).outcomeUnknown()).isTrue());
        assertThat(echo.echo("still usable")).isEqualTo("still usable");
    }

    /** Virtual-thread callers park untimed; the runtime's deadline sweeper must still stop each on time. */
    @Test
    void shouldExpireCallsFromVirtualThreadsEachAtItsOwnDeadline() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var late = threads.submit(() -> expiry(() -> Deadline.within(Duration.ofMillis(600), () -> echo.block(10_000))));
            var early = threads.submit(() -> expiry(() -> Deadline.within(Duration.ofMillis(100), () -> echo.block(10_000))));
            var fine = threads.submit(() -> Deadline.within(Duration.ofSeconds(30), () -> echo.echo("on time")));

            assertThat(fine.get()).isEqualTo("on time");
            long earlyAt = early.get();
            long lateAt = late.get();
            assertThat(earlyAt).as("the 100 ms call gave up before the 600 ms one").isLessThan(lateAt);
        }
        assertThat(echo.echo("still usable")).isEqualTo("still usable");
    }

    /** Runs {@code call}, expects it to exceed its deadline, and returns when that happened (nanoTime). */
    private static long expiry(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThat(Thread.currentThread().isVirtual()).isTrue();
        assertThatThrownBy(call).isInstanceOf(DeadlineExceededException.class);
        return System.nanoTime();
    }

    @Test
    void shouldApplyTheConfiguredDefaultDeadlineOutsideAnyScope() {
        CircuitRuntime a = runtimes.start(c -> c.defaultCallTimeoutMs(150));
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.block(10_000)).isInstanceOf(DeadlineExceededException.class);
    }

    @Test
    void shouldPropagateTheDeadlineScopeToTheCallee() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        Long remainingThere = Deadline.within(Duration.ofSeconds(2), echo::remainingDeadlineMillis);
        Long remainingByDefault = echo.remainingDeadlineMillis();

        assertThat(remainingThere).isNotNull().isBetween(1L, 2_000L);
        assertThat(remainingByDefault).as("the runtime default, 30 s, travels too").isBetween(2_000L, 30_000L);
    }

    @Test
    void shouldStopNestedCallsOnAThirdWorkerAtTheOriginalDeadline() throws InterruptedException {
        java.util.concurrent.CountDownLatch gaveUp = new java.util.concurrent.CountDownLatch(1);
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        CircuitRuntime c = runtimes.start();
        c.listen("slow", Echo.class, new EchoImpl());
        b.listen("relay", Fixtures.Counter.class, new Fixtures.Counter() {
            @Override
            public int add(int delta) {
                Echo slow = io.jcircuit.Circuit.current().dial(c.address(), "slow", Echo.class);
                try {
                    slow.block(10_000);
                    return 0;
                } catch (DeadlineExceededException expected) {
                    gaveUp.countDown();
                    return -1;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public int get() {
                return 0;
            }
        });
        Fixtures.Counter relay = a.dial(b.address(), "relay", Fixtures.Counter.class);

        // B's nested call to C gives up when A's deadline passes, so A hears of it (-1) or times out: B's
        // deadline is A's plus the request's transit, so which comes first depends on wake-ups.
        int heard;
        try {
            // long enough for B to start the call and dial C on a loaded machine; C's 10 s is far beyond it
            heard = Deadline.within(Duration.ofMillis(1_500), () -> relay.add(1));
        } catch (DeadlineExceededException timedOut) {
            heard = -1;
        }
        assertThat(heard).isEqualTo(-1);
        assertThat(gaveUp.await(5, java.util.concurrent.TimeUnit.SECONDS))
            .as("B's call to C ended at A's deadline, not after C's 10 s").isTrue();
    }

    @Test
    void shouldNeverWidenAnEnclosingDeadline() {
        long outer = Deadline.within(Duration.ofMillis(500), () ->
            Deadline.within(Duration.ofHours(1), () -> Deadline.remainingNanos().getAsLong()));

        assertThat(outer).isLessThanOrEqualTo(Duration.ofMillis(500).toNanos());
        assertThat(Deadline.remainingNanos()).isEmpty();
    }
}
