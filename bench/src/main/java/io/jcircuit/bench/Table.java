package io.jcircuit.bench;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The human-readable report: for each figure, both passes, each one's ratio to the raw TCP figure of
 * the same pass (round trips to {@code tcp_rtt_p50_us}, rates to {@code tcp_pipelined_msgs_per_s}),
 * and the DESIGN §8 target with its verdict in each pass ({@code unpinned/1cpu}).
 */
final class Table {

    private static final String ROW = "%-26s %11s %9s %11s %9s   %-26s %s%n";

    private Table() {
    }

    /** Prints the table of {@code r}, which must hold both passes (see {@link Results#merge}). */
    static void print(Results r, Plan plan, PrintStream out) {
        out.printf(Locale.ROOT, "JCircuit bench (%s): loopback, server in a second JVM; 1cpu = both JVMs under taskset -c 0%n",
            plan.name());
        out.printf(Locale.ROOT, ROW, "figure", "unpinned", "x tcp", "1cpu", "x tcp", "target (DESIGN §8)", "met");
        for (Metric m : Metric.values()) {
            Target target = Target.of(m).orElse(null);
            out.printf(Locale.ROOT, ROW, m.key(),
                value(m, r.get(m, false)), ratio(r, m, false),
                value(m, r.get(m, true)), ratio(r, m, true),
                target == null ? (m.floor() == m ? "floor" : "") : target.text(),
                target == null ? "" : target.judge(r, false) + "/" + target.judge(r, true));
        }
        out.println("8 callers: 8 virtual threads, one link. async: JCircuit has no async API yet; "
            + BenchClient.ASYNC_CALLERS + " virtual threads");
        out.println("each make sync calls on one link, so up to " + BenchClient.ASYNC_CALLERS
            + " calls are in flight; calls/s counted in steady state.");
    }

    /** A round trip as {@code 12.3 us}, a rate as {@code 96.1 k/s} or {@code 1.23 M/s}. */
    static String value(Metric m, double v) {
        if (m.kind() == Metric.Kind.RTT) {
            return String.format(Locale.ROOT, "%.1f us", v);
        }
        if (v >= 1_000_000) {
            return String.format(Locale.ROOT, "%.2f M/s", v / 1_000_000);
        }
        return String.format(Locale.ROOT, "%.1f k/s", v / 1_000);
    }

    /** {@code x / floor} of the same pass, to three significant digits: {@code 1.85}, {@code 0.00634}. */
    static String ratio(Results r, Metric m, boolean pinned) {
        double floor = r.get(m.floor(), pinned);
        if (!(floor > 0)) {
            return "?";
        }
        double x = r.get(m, pinned) / floor;
        return String.format(Locale.ROOT, x >= 1000 ? "%.0f" : "%.3g", x);
    }
}
