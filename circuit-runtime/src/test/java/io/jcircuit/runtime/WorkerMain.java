package io.jcircuit.runtime;

import java.io.IOException;

/**
 * The far side of {@link TwoProcessTest}: a runtime in its own JVM that publishes the test services,
 * prints its address, and lives until its stdin closes.
 */
public final class WorkerMain {

    private WorkerMain() {
    }

    public static void main(String[] args) throws IOException {
        try (CircuitRuntime rt = CircuitRuntime.start()) {
            rt.listen("echo", Fixtures.Echo.class, new Fixtures.EchoImpl());
            rt.listen("counter", Fixtures.Counter.class, new Fixtures.CounterImpl());
            System.out.println("WORKER " + rt.id() + " " + rt.address());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to go away
            }
        }
    }
}
