package io.jcircuit.bench;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The spawner child: measures the {@link Metric.Group#SPAWN} figures with {@link SpawnProbe}, prints
 * one {@link #NOTE_PREFIX} line of notes and one {@link BenchClient#RESULT_PREFIX} JSON line on
 * stdout, then exits 0 (1 on failure, with the cause on stderr).
 *
 * <p>Run by the orchestrator as {@code java ... io.jcircuit.bench.BenchSpawner <plan> <state dir>}.
 * It exits as soon as its stdin ends, and however it exits it first kills every process it started
 * (host daemons start workers, warm JVMs and hello-world JVMs as its children).
 */
public final class BenchSpawner {

    static final String NOTE_PREFIX = "BENCH-NOTE ";

    private BenchSpawner() {
    }

    public static void main(String[] args) {
        PrintStream protocol = ChildStdio.claimStdout();
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("bench-spawner-cleanup")
            .unstarted(BenchSpawner::killDescendants));
        ChildStdio.exitWhenStdinEnds();
        int code = 1;
        try {
            if (args.length != 2) {
                throw new IllegalArgumentException("usage: BenchSpawner <full|quick|smoke> <state dir>");
            }
            SpawnProbe.Measured m = SpawnProbe.measure(Plan.named(args[0]), Path.of(args[1]));
            protocol.println(NOTE_PREFIX + m.note());
            protocol.println(BenchClient.RESULT_PREFIX + m.figures().toJson());
            protocol.flush();
            code = 0;
        } catch (Throwable t) {
            System.err.println("bench spawner failed:");
            t.printStackTrace();
        }
        System.exit(code);
    }

    /** Kills whatever this JVM started and is still running; the hosts have normally done so already. */
    static void killDescendants() {
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
    }
}
