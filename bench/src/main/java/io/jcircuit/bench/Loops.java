package io.jcircuit.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The two ways the bench measures: round trips timed one by one on the calling thread, and a counter
 * sampled over a steady-state window. Nothing here asserts on time.
 */
final class Loops {

    /** How long callers may take to finish their last call after a rate window closes. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /** One request and its answer; throws when the answer is wrong or the call fails. */
    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    private Loops() {
    }

    /**
     * Makes {@code warmup} calls, then times {@code samples} calls one at a time on this thread with
     * {@link System#nanoTime()}. Returns the round trips in nanoseconds, sorted.
     */
    static long[] roundTrips(Call call, int warmup, int samples) throws Exception {
        for (int i = 0; i < warmup; i++) {
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
     * returns the calls completed per second over the plan's measuring window (after its warm-up
     * window). Blocks for both windows and until the callers have stopped.
     *
     * @throws BenchException when a caller fails (with its failure as the cause) or does not stop
     */
    static double callsPerSecond(Call call, int callers, ThreadFactory threads, Plan plan) throws InterruptedException {
        LongAdder done = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> running = new ArrayList<>(callers);
        double rate;
        try {
            for (int i = 0; i < callers; i++) {
                Thread t = threads.newThread(() -> callUntil(stop, call, done, failure));
                running.add(t);
                t.start();
            }
            rate = perSecond(done::sum, plan);
        } finally {
            stop.set(true);
            for (Thread t : running) {
                if (!t.join(STOP_GRACE)) {
                    throw new BenchException("a caller did not finish its call within " + STOP_GRACE + " of the stop");
                }
            }
        }
        if (failure.get() != null) {
            throw new BenchException("a caller failed: " + failure.get(), failure.get());
        }
        return rate;
    }

    private static void callUntil(AtomicBoolean stop, Call call, LongAdder done, AtomicReference<Throwable> failure) {
        try {
            while (!stop.get()) {
                call.run();
                done.increment();
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            stop.set(true);
        }
    }

    /**
     * Sleeps through the plan's warm-up window, then returns how fast {@code counter} grew per second
     * over its measuring window.
     */
    static double perSecond(LongSupplier counter, Plan plan) throws InterruptedException {
        Thread.sleep(plan.rateWarmupMs());
        long c0 = counter.getAsLong();
        long t0 = System.nanoTime();
        Thread.sleep(plan.rateMeasureMs());
        long c1 = counter.getAsLong();
        long t1 = System.nanoTime();
        return (c1 - c0) * 1e9 / (t1 - t0);
    }
}
