package io.jcircuit.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Threads that each make the same call back to back until stopped, counting completions. The first
 * failure stops the whole crew and is rethrown by {@link #stop}.
 *
 * <p>Lifecycle: {@link #start} starts the threads; {@link #stop} must follow, in a finally block.
 */
final class Crew {

    /** How long callers may take to finish their last call after the stop. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final LongAdder done = new LongAdder();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    private Crew() {
    }

    /** Starts {@code size} threads from {@code factory}, each running {@code call} in a loop. */
    static Crew start(int size, ThreadFactory factory, Loops.Call call) {
        Crew crew = new Crew();
        for (int i = 0; i < size; i++) {
            Thread t = factory.newThread(() -> crew.loop(call));
            crew.threads.add(t);
            t.start();
        }
        return crew;
    }

    /** Calls completed so far. */
    long done() {
        return done.sum();
    }

    private void loop(Loops.Call call) {
        try {
            while (!stopping.get()) {
                call.run();
                done.increment();
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            stopping.set(true);
        }
    }

    /**
     * Stops the crew and waits for every thread to finish its last call.
     *
     * @throws BenchException when a call failed (with the failure as the cause) or a thread did not
     *                        stop within {@link #STOP_GRACE}
     */
    void stop() throws InterruptedException {
        stopping.set(true);
        for (Thread t : threads) {
            if (!t.join(STOP_GRACE)) {
                throw new BenchException("a caller did not finish its call within " + STOP_GRACE + " of the stop");
            }
        }
        Throwable f = failure.get();
        if (f != null) {
            throw new BenchException("a caller failed: " + f, f);
        }
    }
}
