package io.jcircuit.runtime;

import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.DeadlineExceededException;
import io.jcircuit.Fn;
import io.jcircuit.Worker;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GoTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    /** A function as a record: its fields travel with it. */
    record Multiply(int a, int b) implements Fn<Integer> {
        @Override
        public Integer call() {
            return a * b;
        }
    }

    @Test
    void shouldRunALambdaOnAVirtualThreadOfTheOtherRuntime() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Worker wb = a.worker(b.address());
        String prefix = "ran on ";

        String where = wb.go(() -> prefix + Circuit.current().id() + " virtual=" + Thread.currentThread().isVirtual());

        assertThat(where).isEqualTo("ran on " + b.id() + " virtual=true");
    }

    @Test
    void shouldRunARecordFunction() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();

        assertThat(a.worker(b.address()).go(new Multiply(6, 7))).isEqualTo(42);
    }

    @Test
    void shouldCarryReferencesCapturedByTheFunction() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        CounterImpl counter = new CounterImpl();
        Counter ref = a.ref(Counter.class, counter);

        int seen = a.worker(b.address()).go(() -> ref.add(9));

        assertThat(seen).isEqualTo(9);
        assertThat(counter.get()).isEqualTo(9);
    }

    @Test
    void shouldRethrowWhatTheFunctionThrows() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();

        assertThatThrownBy(() -> a.worker(b.address()).go(() -> {
            throw new UnsupportedOperationException("not here");
        })).isExactlyInstanceOf(UnsupportedOperationException.class).hasMessage("not here");
    }

    @Test
    void shouldRunGoOnItselfOnANewVirtualThread() {
        CircuitRuntime a = runtimes.start();
        Thread caller = Thread.currentThread();

        long callerId = caller.threadId();
        boolean otherThread = a.self().go(() -> Thread.currentThread().threadId() != callerId && Thread.currentThread().isVirtual());

        assertThat(otherThread).isTrue();
    }

    /**
     * A go on the runtime itself ends at the caller's deadline, as one on another runtime does: before,
     * its caller waited for as long as the function ran. The function goes on (until the runtime closes).
     */
    @Test
    void shouldStopWaitingForAGoOnItselfAtTheCallersDeadline() {
        CircuitRuntime a = runtimes.start();

        assertThatThrownBy(() -> Deadline.within(Duration.ofMillis(300), () -> a.self().go(() -> {
            new CountDownLatch(1).await(); // runs until the runtime closes after the test and interrupts it
            return 1;
        }))).isInstanceOfSatisfying(DeadlineExceededException.class, e -> {
            assertThat(e.worker()).isEqualTo(a.id());
            assertThat(e.outcomeUnknown()).isTrue();
        });
    }

    /**
     * A go on the runtime itself fails when that runtime closes, as one on another runtime does when
     * the link breaks: before, close left its caller waiting for as long as the function ran.
     */
    @Test
    void shouldFailAGoOnItselfWhenItsRuntimeCloses() throws Exception {
        CircuitRuntime a = runtimes.start();
        CountDownLatch running = new CountDownLatch(1);
        Runnable started = a.ref(Runnable.class, running::countDown);
        CompletableFuture<Integer> go = CompletableFuture.supplyAsync(() -> a.self().go(() -> {
            started.run();
            new CountDownLatch(1).await(); // runs until interrupted at close, as a go from another runtime is
            return 1;
        }), runnable -> Thread.ofVirtual().start(runnable));
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

        a.close();

        assertThat(go).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
            .havingCause().isInstanceOfSatisfying(WorkerDiedException.class, e -> {
                assertThat(e.worker()).isEqualTo(a.id());
                assertThat(e.outcomeUnknown()).isTrue();
            });
    }

    @Test
    void shouldRefuseAFunctionThatCannotBeSerialized() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        ProcessBuilder unserializable = new ProcessBuilder("true"); // on Fory's list of classes never deserialized

        assertThatThrownBy(() -> a.worker(b.address()).go(() -> unserializable.hashCode()))
            .isInstanceOf(io.jcircuit.CircuitException.class).hasMessageContaining("cannot send go")
            .hasMessageContaining("captures java.lang.ProcessBuilder"); // what it captured, not a lambda class name
    }

    @Test
    void shouldSayThatALambdaCannotTakeItsRuntimeAlong() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();

        // before: "Class java.lang.ref.Cleaner doesn't support serialization", naming nothing the caller wrote
        assertThatThrownBy(() -> a.worker(b.address()).go(() -> a.id().toString()))
            .isInstanceOf(io.jcircuit.CircuitException.class)
            .hasMessageContaining("captures a runtime (" + CircuitRuntime.class.getName() + ")")
            .hasMessageContaining("Circuit.current()");
    }
}
