package io.jcircuit.bench;

/** Percentiles of round-trip samples taken with {@link System#nanoTime()}. */
final class Percentiles {

    private Percentiles() {
    }

    /**
     * The nearest-rank percentile {@code pct} (0 &lt; pct ≤ 100) of {@code sortedNanos}, in
     * microseconds. The smallest sample whose rank is at least {@code pct}% of the samples.
     *
     * @throws IllegalArgumentException when there are no samples or {@code pct} is out of range
     */
    static double micros(long[] sortedNanos, double pct) {
        if (sortedNanos.length == 0) {
            throw new IllegalArgumentException("no samples to take the p" + pct + " of");
        }
        if (!(pct > 0 && pct <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100]: " + pct);
        }
        int rank = (int) Math.ceil(pct / 100.0 * sortedNanos.length);
        return sortedNanos[Math.max(rank, 1) - 1] / 1_000.0;
    }
}
