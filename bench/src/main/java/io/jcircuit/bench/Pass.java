package io.jcircuit.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * One pass of the bench: a fresh server JVM and a fresh client JVM, both under {@code taskset -c 0}
 * when pinned. Blocks until the client has measured everything; both children are gone when it
 * returns or throws.
 */
final class Pass {

    /** Server start-up (JVM, Netty, Fory, RMI) on a slow, pinned machine. */
    private static final long SERVER_START_TIMEOUT_MS = 60_000;
    /** The client prints its results right after its note. */
    private static final long RESULT_AFTER_NOTE_MS = 10_000;

    private Pass() {
    }

    /**
     * Runs one pass and returns its {@link Metric.Group#CALLS} figures under the unpinned keys.
     *
     * @throws BenchException when a child fails, hangs or prints a line the bench cannot read
     */
    static Results run(Plan plan, boolean pinned, PrintStream progress) {
        String name = pinned ? "1cpu pass (both JVMs under taskset -c 0)" : "unpinned pass";
        progress.println("bench: " + name + "...");
        long start = System.nanoTime();
        Results r;
        String note;
        try (ChildJvm server = ChildJvm.start("server", pinned, BenchServer.class, List.of())) {
            String ports = server.awaitLine(BenchServer.PORTS_PREFIX, SERVER_START_TIMEOUT_MS);
            try (ChildJvm client = ChildJvm.start("client", pinned, BenchClient.class, List.of(plan.name(), ports))) {
                note = client.awaitLine(BenchSpawner.NOTE_PREFIX, plan.childTimeoutMs()); // printed just before the results
                r = complete(client.awaitLine(BenchClient.RESULT_PREFIX, RESULT_AFTER_NOTE_MS));
            }
        }
        progress.println("bench: " + name + ": " + note);
        progress.printf(Locale.ROOT, "bench: %s done in %.1f s%n", name, (System.nanoTime() - start) / 1e9);
        return r;
    }

    /** Reads the client's JSON and checks that it holds every call figure. */
    private static Results complete(String json) {
        try {
            return Results.parseJson(json).figures(Metric.Group.CALLS);
        } catch (RuntimeException e) {
            throw new BenchException("the bench client printed unusable results: " + e.getMessage(), e);
        }
    }
}
