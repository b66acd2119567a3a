package io.jcircuit.bench;

import java.util.List;

/**
 * How much one pass measures. The orchestrator passes the plan's {@link #name} to the client child,
 * which looks it up with {@link #named}.
 *
 * @param name           {@code full}, {@code quick} or {@code smoke}
 * @param rttWarmup      round trips made and thrown away before a latency is measured
 * @param rttSamples     round trips timed one by one for a latency's percentiles
 * @param goSamples      {@code go} round trips timed (after {@code rttWarmup / 4} thrown away)
 * @param rateWarmupMs   how long callers run before a rate is counted
 * @param rateMeasureMs  how long a rate is counted
 * @param childTimeoutMs the longest a child JVM may take to print its line before it counts as hung
 */
record Plan(String name, int rttWarmup, int rttSamples, int goSamples,
            long rateWarmupMs, long rateMeasureMs, long childTimeoutMs) {

    /** A few minutes for both passes. */
    static final Plan FULL = new Plan("full", 50_000, 100_000, 20_000, 3_000, 5_000, 600_000);
    /** Within 90 s for both passes on two cores, JVM starts included. */
    static final Plan QUICK = new Plan("quick", 10_000, 10_000, 3_000, 800, 1_500, 120_000);
    /** Seconds: checks that every figure comes out, says nothing about its value. */
    static final Plan SMOKE = new Plan("smoke", 200, 200, 100, 100, 200, 60_000);

    private static final List<Plan> ALL = List.of(FULL, QUICK, SMOKE);

    Plan {
        if (rttWarmup < 0 || rttSamples <= 0 || goSamples <= 0 || rateWarmupMs < 0 || rateMeasureMs <= 0
            || childTimeoutMs <= 0) {
            throw new IllegalArgumentException("bad plan " + name + ": counts and durations must be positive");
        }
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
