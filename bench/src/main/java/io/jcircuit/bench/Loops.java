package io.jcircuit.bench;

import java.util.Arrays;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongSupplier;

/**
 * The two ways the bench measures: round trips timed one by one on the calling thread, and a counter
 * sampled over a steady-state window. Nothing here asserts on time.
 */
final class Loops {

    /** One request and its answer; throws when the answer is wrong or the call fails. */
    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /** A step of a warm-up: keeps the warm-up's calls going for about {@code millis}. */
    @FunctionalInterface
    interface Step {
        void run(long millis) throws Exception;
    }

    /** How often {@link #untilCompiled} looks at the compilers. */
    static final long SLICE_MS = 500;
    /**
     * The compiler time, in both JVMs together, below which a {@link #SLICE_MS} slice counts as settled:
     * 2 % of it. A JVM that runs the same calls for long still compiles now and then (a method
     * recompiled after a deoptimization), a few milliseconds at a time.
     */
    static final long SETTLED_COMPILE_MS = SLICE_MS / 50;

    private Loops() {
    }

    /** Milliseconds this JVM's JIT compilers have spent so far; 0 where the JVM does not count it. */
    static long compileMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /**
     * How a warm-up of {@link #untilCompiled} ended: after {@code millis}, with the compilers settled, or at
     * its cap with them still busy.
     */
    record Warmed(long millis, boolean settled) {

        /** "12.5 s", or "30.0 s (compilers still busy)" when the warm-up ended at its cap. */
        String describe() {
            return String.format(java.util.Locale.ROOT, "%.1f s%s", millis / 1e3, settled ? "" : " (compilers still busy)");
        }
    }

    /**
     * A warm-up that lasts until the JIT compilers are done with what it runs: runs {@code step} in slices
     * of {@link #SLICE_MS} (shorter when {@code maxMs} is), for at least {@code minMs}, until a slice in
     * which the compilers of the JVMs that {@code compileMillis} counts together spent at most
     * {@link #SETTLED_COMPILE_MS} (in proportion for a shorter slice), or until {@code maxMs}. A fixed
     * warm-up measured the JIT on slow VMs and at one CPU: 8 callers made 30-47 k calls/s in the quick
     * plan's windows against 61-68 k after the full plan's 30 s (docs/performance.md).
     */
    static Warmed untilCompiled(LongSupplier compileMillis, Step step, long minMs, long maxMs) throws Exception {
        long slice = Math.max(1, Math.min(SLICE_MS, maxMs));
        long settledBelow = Math.max(1, SETTLED_COMPILE_MS * slice / SLICE_MS);
        long start = System.nanoTime();
        long compiled = compileMillis.getAsLong();
        while (true) {
            step.run(slice);
            long now = compileMillis.getAsLong();
            long elapsedMs = (System.nanoTime() - start) / 1_000_000L;
            boolean settled = now - compiled <= settledBelow;
            if (elapsedMs >= maxMs || (elapsedMs >= minMs && settled)) {
                return new Warmed(elapsedMs, settled);
            }
            compiled = now;
        }
    }

    /**
     * Makes calls for {@code warmupMs} (warming the JIT of both JVMs, whatever the machine's speed),
     * then times {@code samples} calls one at a time on this thread with {@link System#nanoTime()}.
     * Returns the round trips in nanoseconds, sorted.
     */
    static long[] roundTrips(Call call, long warmupMs, int samples) throws Exception {
        long warmUntil = System.nanoTime() + warmupMs * 1_000_000L;
        while (System.nanoTime() < warmUntil) {
            call.run();
        }
        long[] nanos = new long[samples];
        for (int i = 0; i < samples; i++) {
            long start = System.nanoTime();
            call.run();
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        return nanos;
    }

    /**
     * Runs {@code callers} threads from {@code threads}, each making {@code call} back to back, and
     * returns the calls completed per second over {@code measureMs}, counted after {@code warmupMs}.
     * Blocks for both windows and until the callers have stopped.
     *
     * @throws BenchException when a caller fails (with its failure as the cause) or does not stop
     */
    static double callsPerSecond(Call call, int callers, ThreadFactory threads, long warmupMs, long measureMs)
        throws InterruptedException {
        Crew crew = Crew.start(callers, threads, call);
        double rate;
        try {
            rate = perSecond(crew::done, warmupMs, measureMs);
        } finally {
            crew.stop();
        }
        return rate;
    }

    /** The calls per second of two crews measured in turn: one rate per window, in the order taken. */
    record InTurns(double[] first, double[] second) {

        /** The median window of the first call. */
        double firstMedian() {
            return median(first);
        }

        /** The median window of the second call. */
        double secondMedian() {
            return median(second);
        }

        /** The windows in k calls/s, in the order taken: "first [a, b, ...], second [c, d, ...]". */
        String describe(String firstName, String secondName) {
            return firstName + " " + kilo(first) + ", " + secondName + " " + kilo(second);
        }

        private static String kilo(double[] rates) {
            return Arrays.toString(Arrays.stream(rates).mapToLong(r -> Math.round(r / 1000)).toArray());
        }

        private static double median(double[] rates) {
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }
    }

    /**
     * Two calls counted in turn, {@code pairs} windows each, the way {@link #callsPerSecond} counts one:
     * {@code callers} threads, a warm-up of {@code warmupMs}, then {@code windowMs} counted. The order
     * swaps from pair to pair (first, second; second, first; ...), so that a machine whose speed drifts
     * or dips for a few seconds, which these VMs do, slows both alike rather than whichever ran then.
     */
    static InTurns inTurns(Call first, ThreadFactory firstThreads, Call second, ThreadFactory secondThreads, int callers,
                           int pairs, long warmupMs, long windowMs) throws InterruptedException {
        double[] a = new double[pairs];
        double[] b = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            if (i % 2 == 0) {
                a[i] = callsPerSecond(first, callers, firstThreads, warmupMs, windowMs);
                b[i] = callsPerSecond(second, callers, secondThreads, warmupMs, windowMs);
            } else {
                b[i] = callsPerSecond(second, callers, secondThreads, warmupMs, windowMs);
                a[i] = callsPerSecond(first, callers, firstThreads, warmupMs, windowMs);
            }
        }
        return new InTurns(a, b);
    }

    /**
     * Sleeps through {@code warmupMs}, then returns how fast {@code counter} grew per second over the
     * next {@code measureMs}.
     */
    static double perSecond(LongSupplier counter, long warmupMs, long measureMs) throws InterruptedException {
        Thread.sleep(warmupMs);
        long c0 = counter.getAsLong();
        long t0 = System.nanoTime();
        Thread.sleep(measureMs);
        long c1 = counter.getAsLong();
        long t1 = System.nanoTime();
        return (c1 - c0) * 1e9 / (t1 - t0);
    }
}
