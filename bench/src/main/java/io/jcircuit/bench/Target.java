package io.jcircuit.bench;

import java.util.List;
import java.util.Optional;

import static io.jcircuit.bench.Metric.CHAN_ITEMS;
import static io.jcircuit.bench.Metric.CIRCUIT_ASYNC;
import static io.jcircuit.bench.Metric.CIRCUIT_CALLS_8;
import static io.jcircuit.bench.Metric.CIRCUIT_GO_RTT_P50;
import static io.jcircuit.bench.Metric.CIRCUIT_RTT_P50;
import static io.jcircuit.bench.Metric.JVM_HELLO;
import static io.jcircuit.bench.Metric.RMI_CALLS_8;
import static io.jcircuit.bench.Metric.RMI_RTT_P50;
import static io.jcircuit.bench.Metric.SPAWN_COLD_P50;
import static io.jcircuit.bench.Metric.SPAWN_WARM_P50;
import static io.jcircuit.bench.Metric.TCP_PIPELINED;
import static io.jcircuit.bench.Metric.TCP_RTT_P50;
import static io.jcircuit.bench.Metric.WORKER_IDLE_RSS;

/**
 * A performance target of DESIGN §8, judged on figures of the same pass. Some targets hold only at
 * 1 CPU, where the figures measure software cost rather than cross-CPU wake-ups. The spawn targets
 * are judged on the one spawn pass and ignore {@code pinned}.
 *
 * @param metric the figure the target is about
 * @param text   the target as the table shows it
 * @param check  judges the figures of the pinned or unpinned pass
 */
record Target(Metric metric, String text, Check check) {

    /** The outcome of one target in one pass. */
    enum Verdict {
        MET("yes"), MISSED("NO"), NOT_APPLICABLE("-"),
        /** Missed by less than the figures of one side moved within the run: the run cannot tell. */
        UNRESOLVED("?");

        private final String text;

        Verdict(String text) {
            this.text = text;
        }

        static Verdict of(boolean met) {
            return met ? MET : MISSED;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * Judges a target on the figures of one pass; never throws for a complete {@link Results}. A spawn
     * target is only ever judged unpinned.
     */
    @FunctionalInterface
    interface Check {
        Verdict judge(Results r, boolean pinned);
    }

    /** The targets of DESIGN §8 that the bench measures, by figure. */
    static final List<Target> ALL = List.of(
        new Target(CIRCUIT_RTT_P50, "<= 2x tcp at 1 CPU; < rmi", (r, pinned) -> Verdict.of(
            r.get(CIRCUIT_RTT_P50, pinned) < r.get(RMI_RTT_P50, pinned)
                && (!pinned || r.get(CIRCUIT_RTT_P50, pinned) <= 2 * r.get(TCP_RTT_P50, pinned)))),
        new Target(CIRCUIT_CALLS_8, ">= 2x rmi", (r, pinned) -> Verdict.of(
            r.get(CIRCUIT_CALLS_8, pinned) >= 2 * r.get(RMI_CALLS_8, pinned))),
        new Target(Metric.CIRCUIT_CALLS_8_NOMETRICS, "metrics cost <= 5%", Target::judgeMetricsCost),
        new Target(CIRCUIT_ASYNC, ">= 0.5x tcp pipelined", (r, pinned) -> Verdict.of(
            r.get(CIRCUIT_ASYNC, pinned) >= 0.5 * r.get(TCP_PIPELINED, pinned))),
        new Target(CIRCUIT_GO_RTT_P50, "<= 3x tcp at 1 CPU", (r, pinned) -> pinned
            ? Verdict.of(r.get(CIRCUIT_GO_RTT_P50, true) <= 3 * r.get(TCP_RTT_P50, true))
            : Verdict.NOT_APPLICABLE),
        new Target(CHAN_ITEMS, ">= 1 M/s", (r, pinned) -> Verdict.of(r.get(CHAN_ITEMS, pinned) >= 1_000_000)),
        new Target(SPAWN_COLD_P50, "<= 6x jvm_hello", (r, pinned) -> Verdict.of(
            r.get(SPAWN_COLD_P50) <= 6 * r.get(JVM_HELLO))),
        new Target(SPAWN_WARM_P50, "<= 2 ms", (r, pinned) -> Verdict.of(r.get(SPAWN_WARM_P50) <= 2.0)),
        new Target(WORKER_IDLE_RSS, "<= 64 MB", (r, pinned) -> Verdict.of(r.get(WORKER_IDLE_RSS) <= 64.0)));

    /** The budget of the always-on call metrics: the share of 8 callers' calls/s they may cost. */
    static final double METRICS_BUDGET = 0.05;

    /**
     * Met when the rate with metrics is within {@link #METRICS_BUDGET} of the rate without; missed when
     * it is further below than that budget plus twice {@link Metric#CIRCUIT_METRICS_AB_SPREAD}, how far
     * the two windows of one side lay apart (the difference of two windows' means varies about as much as
     * one window, which that spread estimates); in between the run cannot tell a cost from its own noise.
     * A 2-CPU VM that switches between its two 8-caller states within the A/B can still read a miss.
     */
    private static Verdict judgeMetricsCost(Results r, boolean pinned) {
        double on = r.get(Metric.CIRCUIT_CALLS_8_METRICS, pinned);
        double off = r.get(Metric.CIRCUIT_CALLS_8_NOMETRICS, pinned);
        double cost = 1 - on / off;
        if (cost <= METRICS_BUDGET) {
            return Verdict.MET;
        }
        double spread = r.get(Metric.CIRCUIT_METRICS_AB_SPREAD, pinned) / 100;
        return cost <= METRICS_BUDGET + 2 * spread ? Verdict.UNRESOLVED : Verdict.MISSED;
    }

    /** The target on {@code metric}, if DESIGN §8 sets one. */
    static Optional<Target> of(Metric metric) {
        return ALL.stream().filter(t -> t.metric == metric).findFirst();
    }

    Verdict judge(Results r, boolean pinned) {
        return check.judge(r, pinned);
    }
}
