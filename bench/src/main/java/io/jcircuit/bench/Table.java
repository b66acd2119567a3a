package io.jcircuit.bench;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The human-readable report. For each call figure: both passes, each one's ratio to the raw TCP
 * figure of the same pass (round trips to {@code tcp_rtt_p50_us}, rates to
 * {@code tcp_pipelined_msgs_per_s}, but the 8-caller rates to {@code rmi_calls_per_s_8}, which their
 * target is about), and the DESIGN §8 target with its verdict in each pass
 * ({@code unpinned/1cpu}). Then the spawn figures, measured once: each time's ratio to
 * {@code jvm_hello_ms}, the target and its verdict.
 */
final class Table {

    private static final String ROW = "%-31s %11s %9s %11s %9s   %-26s %s%n";

    private Table() {
    }

    /** Prints the table of {@code r}, which must hold every figure (see {@link Results#merge}). */
    static void print(Results r, Plan plan, PrintStream out) {
        out.printf(Locale.ROOT, "JCircuit bench (%s): loopback, server in a second JVM; 1cpu = both JVMs under taskset -c 0%n",
            plan.name());
        out.printf(Locale.ROOT, ROW, "figure", "unpinned", "x tcp", "1cpu", "x tcp", "target (DESIGN §8)", "met");
        for (Metric m : Metric.of(Metric.Group.CALLS)) {
            Target target = Target.of(m).orElse(null);
            out.printf(Locale.ROOT, ROW, m.key(),
                value(m, r.get(m, false)), ratio(r, m, false),
                value(m, r.get(m, true)), ratio(r, m, true),
                target == null ? floorText(m) : target.text(),
                target == null ? "" : target.judge(r, false) + "/" + target.judge(r, true));
        }
        out.printf(Locale.ROOT, ROW, "spawn (once, unpinned)", "value", "x hello", "", "", "", "");
        for (Metric m : Metric.of(Metric.Group.SPAWN)) {
            Target target = Target.of(m).orElse(null);
            out.printf(Locale.ROOT, ROW, m.key(), value(m, r.get(m)), ratio(r, m, false), "", "",
                target == null ? floorText(m) : target.text(), target == null ? "" : target.judge(r, false));
        }
        out.printf(Locale.ROOT, "8 callers: JCircuit's 8 virtual threads on one link, RMI's 8 platform threads (RMI's"
            + " faster kind); counted in turn,%nmedian of %d windows of %d ms each. Their \"x tcp\" column is x rmi_calls_per_s_8"
            + " of the same pass.%n", plan.pairs8(), plan.window8Ms());
        out.println("metrics: 8 callers with call metrics on, off, off, on, in turn; \"?\": short of the budget by less"
            + " than twice");
        out.println("circuit_metrics_ab_spread_pct, how far the two windows of one side lay apart (this run cannot tell"
            + " such a cost from its noise).");
        out.println("async: one thread calls a method returning a CompletableFuture, keeping up to "
            + BenchClient.ASYNC_IN_FLIGHT + " calls in flight");
        long cap = plan.asyncWarmupMaxMs(2);
        long cap1 = plan.asyncWarmupMaxMs(1);
        out.printf(Locale.ROOT, "on one link; calls/s counted once the JIT compilers are done with them (after %d ms at"
            + " least, %d ms at most%s).%n", plan.warmupMs(), cap, cap1 == cap ? "" : "; " + cap1 + " ms on 1 CPU");
        out.println("Warm-ups last until both JVMs' JIT compilers are done (the progress lines say how long each took).");
        out.printf(Locale.ROOT, "spawn: spawn() until its result is back, p50 of %d cold (no warm pool; after an uncounted"
            + " first spawn)%n", plan.coldSpawns());
        out.printf(Locale.ROOT, "and of %d warm. jvm_hello: java -cp <one class> Hello until it exits, p50 of %d."
            + " rss: VmRSS of a worker idle >= %d s.%n", plan.warmSpawns(), plan.helloStarts(),
            plan.workerIdleMs() / 1000);
    }

    /** "floor" for raw TCP and the hello world, "base for 8 callers" for RMI's 8 callers, nothing for the others. */
    private static String floorText(Metric m) {
        if (!m.isFloor()) {
            return "";
        }
        return m == Metric.RMI_CALLS_8 ? "base for 8 callers" : "floor";
    }

    /**
     * A round trip as {@code 12.3 us}, a duration as {@code 45.6 ms}, a size as {@code 78.9 MB}, a share as
     * {@code 4.2 %}, a rate
     * as {@code 96.1 k/s} or {@code 1.23 M/s}.
     */
    static String value(Metric m, double v) {
        return switch (m.kind()) {
            case RTT -> String.format(Locale.ROOT, "%.1f us", v);
            case MILLIS -> String.format(Locale.ROOT, "%.1f ms", v);
            case MEGABYTES -> String.format(Locale.ROOT, "%.1f MB", v);
            case PERCENT -> String.format(Locale.ROOT, "%.1f %%", v);
            case RATE -> v >= 1_000_000
                ? String.format(Locale.ROOT, "%.2f M/s", v / 1_000_000)
                : String.format(Locale.ROOT, "%.1f k/s", v / 1_000);
        };
    }

    /**
     * {@code x / floor} of the same pass, to three significant digits: {@code 1.85}, {@code 0.00634};
     * empty for a figure without a floor.
     */
    static String ratio(Results r, Metric m, boolean pinned) {
        if (m.floor().isEmpty()) {
            return "";
        }
        double floor = r.get(m.floor().get(), pinned);
        if (!(floor > 0)) {
            return "?";
        }
        return threeDigits(r.get(m, pinned) / floor);
    }

    /** Three significant digits ({@code 1.85}, {@code 0.00634}), or a whole number from 1000 on; "?" for NaN. */
    static String threeDigits(double x) {
        if (!Double.isFinite(x)) {
            return "?";
        }
        return String.format(Locale.ROOT, Math.abs(x) >= 1000 ? "%.0f" : "%.3g", x);
    }
}
