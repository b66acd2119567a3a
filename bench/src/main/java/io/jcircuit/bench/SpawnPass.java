package io.jcircuit.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The spawn pass: one {@link BenchSpawner} child, unpinned, with its state in a fresh temporary
 * directory. Blocks until the child has measured; the child, every process it started and the
 * directory are gone when it returns or throws.
 */
final class SpawnPass {

    /** The result line follows the note line at once. */
    private static final long RESULT_AFTER_NOTE_MS = 10_000;

    private SpawnPass() {
    }

    /**
     * Runs the spawn pass, prints its notes and duration on {@code progress}, and returns its
     * {@link Metric.Group#SPAWN} figures.
     *
     * @throws BenchException when the child fails, hangs or prints a line the bench cannot read
     */
    static Results run(Plan plan, PrintStream progress) {
        String name = "spawn pass (host daemons and worker JVMs, unpinned)";
        progress.println("bench: " + name + "...");
        long start = System.nanoTime();
        Path stateDir = createStateDir();
        String note;
        Results r;
        try (ChildJvm spawner = ChildJvm.start("spawner", false, BenchSpawner.class,
            List.of(plan.name(), stateDir.toString()))) {
            try {
                note = spawner.awaitLine(BenchSpawner.NOTE_PREFIX, plan.childTimeoutMs());
                r = complete(spawner.awaitLine(BenchClient.RESULT_PREFIX, RESULT_AFTER_NOTE_MS));
            } finally {
                // Normally gone already; after a failure the hosts' workers must not outlive the bench.
                spawner.handle().descendants().forEach(ProcessHandle::destroyForcibly);
            }
        } finally {
            deleteTree(stateDir, progress);
        }
        progress.println("bench: spawn pass: " + note);
        progress.printf(Locale.ROOT, "bench: %s done in %.1f s%n", name, (System.nanoTime() - start) / 1e9);
        return r;
    }

    private static Results complete(String json) {
        try {
            return Results.parseJson(json).figures(Metric.Group.SPAWN);
        } catch (RuntimeException e) {
            throw new BenchException("the bench spawner printed unusable results: " + e.getMessage(), e);
        }
    }

    private static Path createStateDir() {
        try {
            return Files.createTempDirectory("jcircuit-bench-spawn-");
        } catch (IOException e) {
            throw new BenchException("cannot create a temporary directory for the spawn pass: " + e.getMessage(), e);
        }
    }

    /** Deletes {@code dir} and everything in it; says so on {@code progress} when it cannot. */
    static void deleteTree(Path dir, PrintStream progress) {
        if (!io.jcircuit.host.Dirs.deleteTree(dir)) {
            progress.println("bench: could not delete all of " + dir);
        }
    }
}
