package io.jcircuit.bench;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Pipelined asynchronous calls on one link: one platform thread issues {@code echoAsync} calls while
 * fewer than {@code inFlight} are unanswered; each answer's dependent checks it, counts it and frees
 * its slot. The first failure stops the issuer and is rethrown by {@link #stop}.
 *
 * <p>Lifecycle: {@link #start} starts the issuer; {@link #stop} must follow, in a finally block.
 */
final class AsyncLoad {

    /** How long the calls still in flight at the stop may take to be answered. */
    private static final long DRAIN_SECONDS = 60;

    private final int inFlight;
    private final Semaphore slots;
    private final LongAdder answered = new LongAdder();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Thread issuer;

    private AsyncLoad(Echo echo, int inFlight) {
        this.inFlight = inFlight;
        this.slots = new Semaphore(inFlight);
        this.issuer = Thread.ofPlatform().name("bench-async-issuer").unstarted(() -> issue(echo));
    }

    /** Starts issuing calls on {@code echo}, keeping up to {@code inFlight} of them unanswered. */
    static AsyncLoad start(Echo echo, int inFlight) {
        AsyncLoad load = new AsyncLoad(echo, inFlight);
        load.issuer.start();
        return load;
    }

    /** Calls answered so far. */
    long answered() {
        return answered.sum();
    }

    private void issue(Echo echo) {
        try {
            while (!stopping.get() && failure.get() == null) {
                slots.acquire();
                echo.echoAsync(BenchClient.MESSAGE).whenComplete((v, t) -> {
                    if (t == null && !BenchClient.MESSAGE.equals(v)) {
                        t = new IllegalStateException("echoAsync returned " + v);
                    }
                    if (t != null) {
                        failure.compareAndSet(null, t);
                    }
                    answered.increment();
                    slots.release();
                });
            }
        } catch (InterruptedException | RuntimeException e) {
            failure.compareAndSet(null, e);
        }
    }

    /**
     * Stops issuing and waits until every call in flight is answered.
     *
     * @throws BenchException when a call failed (with the failure as the cause) or calls were still
     *                        unanswered {@link #DRAIN_SECONDS} s after the stop
     */
    void stop() throws InterruptedException {
        stopping.set(true);
        issuer.join();
        if (!slots.tryAcquire(inFlight, DRAIN_SECONDS, TimeUnit.SECONDS)) {
            throw new BenchException("asynchronous calls still unanswered " + DRAIN_SECONDS + " s after the stop");
        }
        slots.release(inFlight);
        Throwable f = failure.get();
        if (f != null) {
            throw new BenchException("asynchronous call failed: " + f, f);
        }
    }
}
