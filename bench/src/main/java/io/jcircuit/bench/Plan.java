package io.jcircuit.bench;

import java.util.List;

/**
 * How much each pass measures. The orchestrator passes the plan's {@link #name} to the client and
 * spawner children, which look it up with {@link #named}.
 *
 * <p>Every figure is measured after its own warm-up, during which the same calls run and are thrown
 * away. JCircuit gets a longer, shared warm-up first: from a cold JVM its call path (Fory, Netty,
 * proxies, virtual threads, in both JVMs) has a few thousand methods to compile, which takes seconds
 * unpinned and more than ten seconds on one CPU, where the compiler threads share the CPU.
 *
 * @param name            {@code full}, {@code quick} or {@code smoke}
 * @param warmupMs        warm-up before each figure
 * @param circuitWarmupMs the shared warm-up before the first JCircuit figure, with more than one CPU: its
 *                        nominal length, which sets the bounds of the warm-ups that last until the JIT
 *                        compilers are done ({@link #sharedWarmupMinMs}, {@link #sharedWarmupMaxMs},
 *                        {@link #rmiWarmupMaxMs}, {@link #asyncWarmupMaxMs})
 * @param circuitWarmupMs1cpu the same on one CPU, where the compiler threads share the CPU with it
 * @param measureMs       how long a rate is counted
 * @param pairs8          windows of RMI's and JCircuit's 8 callers, taken in turn ({@link Loops#inTurns})
 * @param window8Ms       how long each of those windows counts, after {@code warmupMs} / 4 of the same calls
 * @param rttSamples      round trips timed one by one for a latency's percentiles
 * @param goSamples       {@code go} round trips timed
 * @param helloStarts     hello-world JVM starts timed in the spawn pass
 * @param coldSpawns      spawns timed on a host without a warm pool
 * @param warmSpawns      spawns timed on a host that keeps one warm JVM
 * @param workerIdleMs    how long the worker whose VmRSS is read has been idle at least ({@link SpawnProbe})
 * @param childTimeoutMs  the longest the client or spawner child may take to print its results
 */
record Plan(String name, long warmupMs, long circuitWarmupMs, long circuitWarmupMs1cpu, long measureMs, int pairs8, long window8Ms,
            int rttSamples, int goSamples,
            int helloStarts, int coldSpawns, int warmSpawns, long workerIdleMs, long childTimeoutMs) {

    /** A few minutes for all passes. */
    static final Plan FULL = new Plan("full", 3_000, 30_000, 30_000, 5_000, 7, 1_000, 100_000, 20_000, 15, 11, 11, SpawnProbe.WORKER_IDLE_MS, 600_000);
    /**
     * About 100-110 s for all passes on two cores, JVM starts included. The per-figure warm-ups were cut
     * from 1 s to 0.7 s and the counting from 1.5 s to 1.2 s, and the shared warm-up from 10 s in each pass
     * to 8 s unpinned and 10 s on one CPU (with 8 s in both, the 1-CPU pass still measured the JIT compiler:
     * a 3 ms round-trip p99), which brought the run under 90 s on the VMs of 2026-11-29; the asynchronous
     * calls' own warm-up added 9 s (97-104 s before it, 108-110 s after, on a
     * slower VM of 2026-12-02). Since the warm-ups last until the compilers are done, within bounds set by
     * these figures, a run takes 95-102 s on a faster VM (2026-12-03).
     */
    static final Plan QUICK = new Plan("quick", 700, 8_000, 10_000, 1_200, 3, 500, 10_000, 3_000, 5, 3, 3, SpawnProbe.WORKER_IDLE_MS, 80_000);
    /**
     * Seconds: checks that every figure comes out, says nothing about its value (its idle worker's memory is read
     * during start-up, not idle).
     */
    static final Plan SMOKE = new Plan("smoke", 100, 200, 200, 200, 1, 100, 200, 100, 1, 1, 1, 1_000, 60_000);

    private static final List<Plan> ALL = List.of(FULL, QUICK, SMOKE);

    Plan {
        if (warmupMs < 0 || circuitWarmupMs < 0 || circuitWarmupMs1cpu < 0 || measureMs <= 0 || pairs8 <= 0 || window8Ms <= 0 || rttSamples <= 0 || goSamples <= 0
            || helloStarts <= 0 || coldSpawns <= 0 || warmSpawns <= 0 || workerIdleMs < 0 || childTimeoutMs <= 0) {
            throw new IllegalArgumentException("bad plan " + name + ": warm-ups must be >= 0, the rest > 0");
        }
    }

    /** The shared warm-up for a JVM that may use {@code cpus} CPUs. */
    long circuitWarmupMs(int cpus) {
        return cpus == 1 ? circuitWarmupMs1cpu : circuitWarmupMs;
    }

    /**
     * The least the shared warm-up lasts: half of {@link #circuitWarmupMs(int)}. It goes on until the JIT
     * compilers of both JVMs are done ({@link Loops#untilCompiled}), for at most {@link #sharedWarmupMaxMs}.
     */
    long sharedWarmupMinMs(int cpus) {
        return circuitWarmupMs(cpus) / 2;
    }

    /** The most the shared warm-up lasts: three times {@link #circuitWarmupMs(int)}. */
    long sharedWarmupMaxMs(int cpus) {
        return circuitWarmupMs(cpus) * 3;
    }

    /**
     * The most the warm-up of RMI's round trip, and that of its 8 callers, lasts ({@link #circuitWarmupMs(int)});
     * at least {@link #warmupMs}, until the compilers are done. Without them RMI's first windows measured RMI's
     * JIT, and its round trip in the quick plan was about twice the full plan's.
     */
    long rmiWarmupMaxMs(int cpus) {
        return circuitWarmupMs(cpus);
    }

    /**
     * The most the warm-up of the asynchronous calls' figure lasts: twice its own {@link #warmupMs} and half
     * the shared warm-up, since the shared warm-up runs no asynchronous call; at least {@link #warmupMs},
     * until the compilers are done. With {@link #warmupMs} alone the figure was taken while those paths were
     * still being compiled: on a slow VM 25 k calls/s, where the same link gave 140-190 k once they had run
     * for some 15 s (docs/performance.md).
     */
    long asyncWarmupMaxMs(int cpus) {
        return 2 * (warmupMs + circuitWarmupMs(cpus) / 2);
    }

    /** The plan that {@link Options} ask for. */
    static Plan of(Options options) {
        return options.quick() ? QUICK : FULL;
    }

    /**
     * The plan called {@code name}.
     *
     * @throws IllegalArgumentException naming the plans there are
     */
    static Plan named(String name) {
        return ALL.stream().filter(p -> p.name.equals(name)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no bench plan '" + name + "' (full, quick or smoke)"));
    }
}
