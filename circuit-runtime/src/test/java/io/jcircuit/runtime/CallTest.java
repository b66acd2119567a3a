package io.jcircuit.runtime;

import io.jcircuit.Circuit;
import io.jcircuit.RemoteException;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CallTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void shouldCallRemoteMethodAndReturnItsResult() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());

        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThat(echo.echo("hello")).isEqualTo("hello");
        assertThat(echo.whereAmI()).isEqualTo(b.id().toString());
        assertThat(a.homeOf(echo).id()).isEqualTo(b.id());
    }

    @Test
    void shouldCarryCallsInBothDirectionsOverOneLink() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        CounterImpl counter = new CounterImpl();
        Counter ref = a.ref(Counter.class, counter);

        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThat(echo.callCounter(ref, 5)).isEqualTo(5);
        assertThat(counter.get()).isEqualTo(5);
        assertThat(b.peers().session(a.id(), a.address(), System.nanoTime() + 1_000_000_000L).link.dialed()).isFalse();
    }

    @Test
    void shouldCopyArgumentsAndResultsByValue() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        List<String> mine = Fixtures.mutableList("x");

        List<String> returned = echo.appendAndReturn(mine, "y");

        assertThat(returned).containsExactly("x", "y");
        assertThat(mine).containsExactly("x");
    }

    @Test
    void shouldRethrowRemoteExceptionWithOriginalTypeAndRemoteFrames() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.fail("boom"))
            .isExactlyInstanceOf(IllegalStateException.class)
            .hasMessage("boom")
            .satisfies(t -> {
                List<String> frames = java.util.Arrays.stream(t.getStackTrace()).map(StackTraceElement::toString).toList();
                assertThat(frames.getFirst()).contains("EchoImpl.fail");
                assertThat(frames).anyMatch(f -> f.contains("<circuit>"));
                assertThat(frames).anyMatch(f -> f.contains("CallTest"));
            });
    }

    @Test
    void shouldKeepTheCauseChainOfARemoteException() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.failWith(new java.io.IOException("disk")))
            .isExactlyInstanceOf(RuntimeException.class)
            .hasMessage("wrapped")
            .cause().isExactlyInstanceOf(java.io.IOException.class).hasMessage("disk");
    }

    /** A callee whose own wait was interrupted. */
    public interface Waits {
        String waitUp() throws InterruptedException;
    }

    @Test
    void shouldRethrowACalleesInterruptedExceptionWithoutInterruptingTheCaller() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        java.util.concurrent.atomic.AtomicBoolean interruptNext = new java.util.concurrent.atomic.AtomicBoolean(true);
        b.listen("waits", Waits.class, () -> {
            if (interruptNext.getAndSet(false)) {
                throw new InterruptedException("the callee's own wait");
            }
            return "done";
        });
        Waits waits = a.dial(b.address(), "waits", Waits.class);

        // before, the caller took it for its own interrupt: a CircuitException, the caller's interrupt
        // flag set, and its next call failed at once
        assertThatThrownBy(waits::waitUp).isExactlyInstanceOf(InterruptedException.class).hasMessage("the callee's own wait");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThat(waits.waitUp()).isEqualTo("done");
    }

    /** A callee that gives up on a deadline, as a runtime does that stops waiting for a future. */
    public interface Late {
        void late();
    }

    @Test
    void shouldRethrowACalleesDeadlineExceededAsTheCallersOwn() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("late", Late.class, () -> {
            throw new io.jcircuit.DeadlineExceededException(Circuit.current().id(), "not done by the caller's deadline");
        });
        Late late = a.dial(b.address(), "late", Late.class);

        // no constructor of it takes a message alone: it arrived as a RemoteException, or not, by a race
        assertThatThrownBy(late::late).isExactlyInstanceOf(io.jcircuit.DeadlineExceededException.class)
            .hasMessage("not done by the caller's deadline")
            .satisfies(t -> assertThat(((io.jcircuit.DeadlineExceededException) t).worker()).isEqualTo(b.id()));
    }

    @Test
    void shouldThrowRemoteExceptionWhenTheExceptionClassCannotBeLoaded() {
        ClassLoader hiding = new ClassLoader(CallTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.equals(IllegalStateException.class.getName())) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        };
        CircuitRuntime a = runtimes.start(c -> c.classLoader(hiding));
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.fail("unknown here"))
            .isExactlyInstanceOf(RemoteException.class)
            .satisfies(t -> {
                RemoteException re = (RemoteException) t;
                assertThat(re.remoteClassName()).isEqualTo("java.lang.IllegalStateException");
                assertThat(re.remoteMessage()).isEqualTo("unknown here");
                assertThat(re.getStackTrace()[0].toString()).contains("EchoImpl.fail");
            });
    }

    @Test
    void shouldExposeTheRunningRuntimeToCallees() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        Counter made = echo.makeCounter();

        assertThat(a.homeOf(made).id()).isEqualTo(b.id());
        assertThat(made.add(3)).isEqualTo(3);
        assertThatThrownBy(Circuit::current).isInstanceOf(java.util.NoSuchElementException.class);
    }

    /** Reports what the calling thread looked like on entry, then leaves its interrupt flag set. */
    public interface ThreadProbe {
        long[] enter();
    }

    @Test
    void shouldStartEveryCallWithAClearInterruptFlagWhenCallThreadsServeSeveralCalls() {
        // a long polling budget, so that the thread that answered one call nearly always takes the next
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start(c -> c.link().spinMicros(io.jcircuit.link.LinkConfig.MAX_SPIN_MICROS));
        b.listen("probe", ThreadProbe.class, () -> {
            long[] seen = {Thread.currentThread().threadId(), Thread.currentThread().isInterrupted() ? 1 : 0,
                Thread.currentThread().isVirtual() ? 1 : 0};
            Thread.currentThread().interrupt();
            return seen;
        });
        ThreadProbe probe = a.dial(b.address(), "probe", ThreadProbe.class);

        java.util.Set<Long> threads = new java.util.HashSet<>();
        for (int i = 0; i < 200; i++) {
            long[] seen = probe.enter();
            assertThat(seen[1]).as("interrupted on entry to call %d", i).isZero();
            assertThat(seen[2]).as("call %d ran on a virtual thread", i).isEqualTo(1);
            threads.add(seen[0]);
        }
        assertThat(threads).as("threads that served 200 calls in a row").hasSizeLessThan(200);
    }
}
