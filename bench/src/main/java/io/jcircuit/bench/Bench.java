package io.jcircuit.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code bin/circuit bench}: measures JCircuit beside raw TCP and Java RMI on loopback, and its spawns
 * beside a hello-world JVM start, as DESIGN §8 asks, and prints a table or, with {@code --json}, one
 * JSON object.
 *
 * <p>Every call comparison runs twice in one go, because only ratios taken in one run compare: an
 * unpinned pass, then a pass with both JVMs under {@code taskset -c 0} whose keys end in
 * {@code _1cpu}. Each of these passes starts a server JVM and a client JVM (see {@link Pass}). A third
 * pass, unpinned, times spawns through real host daemons in a spawner JVM (see {@link SpawnPass}).
 * This process only orchestrates and measures nothing itself.
 */
public final class Bench {

    private Bench() {
    }

    /**
     * Runs the bench. Blocks for the whole run: about 85 s with {@link Options#quick()}, a few
     * minutes without. Figures go to {@code out}; progress and errors to {@code err}.
     *
     * @return 0 when every figure was measured (whether or not the targets were met), 1 when the bench
     *         could not measure, with the reason and the failing child's stderr tail on {@code err}
     */
    public static int run(Options options, PrintStream out, PrintStream err) {
        return run(Plan.of(options), options.json(), out, err);
    }

    /**
     * {@code circuit bench compare}: the runs in {@code a} against those in {@code b}, each a file holding what
     * {@code circuit bench --json} printed, figure by figure (see {@link Compare}).
     *
     * @return 0, or 2 when a file cannot be read or holds no whole run, with the reason on {@code err}
     */
    public static int compare(List<Path> a, List<Path> b, boolean json, PrintStream out, PrintStream err) {
        return Compare.run(a, b, json, out, err);
    }

    static int run(Plan plan, boolean json, PrintStream out, PrintStream err) {
        long start = System.nanoTime();
        Results results;
        try {
            results = measure(plan, err);
        } catch (BenchException e) {
            err.println("bench failed: " + e.getMessage());
            return 1;
        }
        if (json) {
            out.println(results.toJson());
        } else {
            Table.print(results, plan, out);
            out.printf(Locale.ROOT, "took %.1f s%n", (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }

    /** The call passes, unpinned then pinned, then the spawn pass, merged under their keys. */
    static Results measure(Plan plan, PrintStream progress) {
        Results unpinned = Pass.run(plan, false, progress);
        Results pinned = Pass.run(plan, true, progress);
        Results spawn = SpawnPass.run(plan, progress);
        return Results.merge(unpinned, pinned, spawn);
    }
}
