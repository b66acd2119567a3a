package io.jcircuit.runtime;

import io.jcircuit.WorkerDiedException;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FailureTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    /** Starts a call whose callee blocks for {@code millis}; the future holds its outcome. */
    private static CompletableFuture<String> blockInBackground(Echo echo, long millis) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return echo.block(millis);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A service whose failures carry what the caller needs besides the message. */
    public interface Store {
        void save(String sql) throws java.sql.SQLException;
    }

    /**
     * An exception's fields of simple types reach the caller as the callee had them: an {@code SQLException}'s
     * SQL state and vendor code. Before, they arrived as its {@code (String)} constructor left them, null and 0.
     */
    @Test
    void anExceptionsSqlStateAndCodeReachTheCaller() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("store", Store.class, sql -> {
            throw new java.sql.SQLException("syntax error near '" + sql + "'", "42000", 1064);
        });
        Store store = a.dial(b.address(), "store", Store.class);

        assertThatThrownBy(() -> store.save("SELEC"))
            .isExactlyInstanceOf(java.sql.SQLException.class).hasMessage("syntax error near 'SELEC'")
            .satisfies(t -> {
                assertThat(((java.sql.SQLException) t).getSQLState()).isEqualTo("42000");
                assertThat(((java.sql.SQLException) t).getErrorCode()).isEqualTo(1064);
            });
    }

    @Test
    void shouldFailFastWithWorkerDiedWhenTheWorkerIsGone() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        b.close();

        assertThatThrownBy(() -> echo.echo("anyone?"))
            .isInstanceOf(WorkerDiedException.class)
            .hasMessageContaining(b.id().toString())
            .satisfies(t -> assertThat(((WorkerDiedException) t).worker()).isEqualTo(b.id()));
    }

    /**
     * An address where the kernel takes the connection but nothing answers the handshake: {@code worker}
     * fails with WorkerDiedException after the connect timeout, as documented, and keeps a caller's
     * shorter deadline. (Before, it failed with a DeadlineExceededException saying the outcome was
     * unknown, though no deadline was set and nothing was sent, and it waited out the connect timeout
     * whatever the caller's deadline.)
     */
    @Test
    void aDialToAnAddressWhereNothingAnswersFailsWithWorkerDiedOrAtTheCallersDeadline() throws Exception {
        CircuitRuntime a = runtimes.start(c -> c.connectTimeoutMs(1_000));
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            io.jcircuit.Address there = io.jcircuit.Address.parse("127.0.0.1:" + silent.getLocalPort());
            assertThatThrownBy(() -> a.worker(there)).isInstanceOf(WorkerDiedException.class)
                .hasMessageContaining("nothing answered at " + there).hasMessageContaining("1000 ms")
                .satisfies(t -> assertThat(((WorkerDiedException) t).outcomeUnknown()).isFalse());

            CircuitRuntime patient = runtimes.start(c -> c.connectTimeoutMs(20_000));
            long start = System.nanoTime();
            assertThatThrownBy(() -> io.jcircuit.Deadline.within(java.time.Duration.ofMillis(200), () -> patient.worker(there)))
                .isInstanceOf(io.jcircuit.DeadlineExceededException.class)
                .satisfies(t -> assertThat(((io.jcircuit.DeadlineExceededException) t).outcomeUnknown()).as("nothing was sent").isFalse());
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).as("the caller's 200 ms, not the 20 s connect timeout")
                .isLessThan(10);
        }
    }

    @Test
    void shouldRefuseWhatStartsOnAClosedRuntimeAndSaySo() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        EchoImpl impl = new EchoImpl();
        b.listen("echo", Echo.class, impl);
        Echo remote = a.dial(b.address(), "echo", Echo.class);
        Echo local = a.ref(Echo.class, new EchoImpl());
        assertThat(local.echo("before")).isEqualTo("before");
        CompletableFuture<String> underWay = blockInBackground(remote, 60_000);
        assertThat(impl.entered.await(10, TimeUnit.SECONDS)).isTrue();
        a.close();

        assertThatThrownBy(() -> underWay.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(WorkerDiedException.class);

        String closed = "runtime " + a.id() + " is closed";
        assertThatThrownBy(() -> local.echo("after")).isInstanceOf(IllegalStateException.class).hasMessage(closed);
        assertThatThrownBy(() -> remote.echo("after")).isInstanceOf(IllegalStateException.class).hasMessage(closed);
        assertThatThrownBy(() -> a.self().go(() -> 1)).isInstanceOf(IllegalStateException.class).hasMessage(closed);
        assertThatThrownBy(() -> a.ref(Echo.class, new EchoImpl())).isInstanceOf(IllegalStateException.class).hasMessage(closed);
        assertThatThrownBy(() -> a.worker(b.address())).isInstanceOf(IllegalStateException.class).hasMessage(closed);
        assertThat(b.ref(Echo.class, new EchoImpl()).echo("b is open")).isEqualTo("b is open");
    }

    @Test
    void anInterruptedCallerGetsACircuitExceptionAndKeepsItsInterrupt() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        EchoImpl impl = new EchoImpl();
        b.listen("echo", Echo.class, impl);
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        Thread caller = Thread.ofVirtual().start(() -> {
            try {
                echo.block(60_000);
                thrown.complete(null);
            } catch (Throwable t) {
                thrown.complete(Thread.currentThread().isInterrupted() ? t : new AssertionError("interrupt cleared", t));
            }
        });
        assertThat(impl.entered.await(10, TimeUnit.SECONDS)).isTrue();
        caller.interrupt();

        // the callee is alive: not a WorkerDiedException, which said so before
        assertThat(thrown.get(10, TimeUnit.SECONDS)).isExactlyInstanceOf(io.jcircuit.CircuitException.class)
            .hasMessageContaining("interrupted while waiting for").hasMessageContaining("it may still run there")
            .hasCauseInstanceOf(InterruptedException.class);
        assertThat(echo.echo("still linked")).isEqualTo("still linked");
    }

    @Test
    void shouldFailAnInFlightCallWithOutcomeUnknownWhenTheWorkerDies() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        EchoImpl impl = new EchoImpl();
        b.listen("echo", Echo.class, impl);
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        CompletableFuture<String> inFlight = blockInBackground(echo, 60_000);
        assertThat(impl.entered.await(10, TimeUnit.SECONDS)).isTrue();
        b.close();

        assertThatThrownBy(() -> inFlight.get(10, TimeUnit.SECONDS))
            .cause().isInstanceOf(WorkerDiedException.class)
            .satisfies(t -> assertThat(((WorkerDiedException) t).outcomeUnknown()).isTrue());
    }

    @Test
    void shouldRefuseAnotherWorkerAnsweringAtTheOldAddress() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        int port = b.address().port();
        b.close();
        CircuitRuntime successor = runtimes.start(c -> c.port(port));
        successor.listen("echo", Echo.class, new EchoImpl());

        assertThatThrownBy(() -> echo.echo("are you b?"))
            .isInstanceOf(WorkerDiedException.class)
            .hasMessageContaining("served by worker " + successor.id())
            .hasMessageContaining("not " + b.id())
            .satisfies(t -> assertThat(((WorkerDiedException) t).outcomeUnknown()).isFalse());
    }

    @Test
    void shouldFailADialToAnAddressWhereNothingListens() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        io.jcircuit.Address gone = b.address();
        b.close();

        assertThatThrownBy(() -> a.worker(gone))
            .isInstanceOf(WorkerDiedException.class)
            .hasMessageContaining("cannot reach").hasMessageContaining(gone.toString());
    }

    @Test
    void shouldKeepServingOtherCallsWhileOneCalleeBlocks() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        EchoImpl impl = new EchoImpl();
        b.listen("echo", Echo.class, impl);
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        CompletableFuture<String> blocked = blockInBackground(echo, 2_000);
        assertThat(impl.entered.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(echo.echo("not blocked")).isEqualTo("not blocked");
        assertThat(blocked).isNotDone();
        assertThat(blocked.get(10, TimeUnit.SECONDS)).isEqualTo("slept 2000");
    }
}
