package io.jcircuit.runtime;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts one runtime's callers that wait for an answer, so that a caller waiting alone may poll for
 * its answer a short while before it parks. Parking costs a wake-up when the answer comes, about 10 us
 * on the VMs we measure on; polling costs CPU. With several callers waiting, the CPU is better left to
 * them and to the event loop, so only a lone waiter polls, and it stops as soon as a second one comes.
 *
 * <p>Also counts the runtime's call threads that have been started but do not run yet. A virtual
 * thread that polls keeps its carrier thread, and a JVM may have a single carrier (JCircuit's own JVMs
 * do on two CPUs, {@code io.jcircuit.host.CpuOptions}): pollers stop as soon as a call thread waits
 * for one, so that it is not held up for a whole polling budget.
 */
final class Waiters {

    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger callThreadsStarting = new AtomicInteger();
    private final long spinNanos;

    /** @param spinMicros the polling budget of a lone waiter; 0 parks at once */
    Waiters(int spinMicros) {
        this.spinNanos = TimeUnit.MICROSECONDS.toNanos(spinMicros);
    }

    /** Starts a wait; returns how long this caller may poll, 0 unless it waits alone. */
    long enter() {
        return waiting.incrementAndGet() == 1 ? spinNanos : 0;
    }

    /** True while this caller waits alone and no call thread waits for a carrier. */
    boolean alone() {
        return waiting.get() == 1 && callThreadsStarting.get() == 0;
    }

    /** A call thread was handed to the scheduler. */
    void callThreadStarting() {
        callThreadsStarting.incrementAndGet();
    }

    /** A call thread counted by {@link #callThreadStarting} runs (or was refused). */
    void callThreadStarted() {
        callThreadsStarting.decrementAndGet();
    }

    /** True when a call thread has been started and does not run yet. */
    boolean callThreadWaits() {
        return callThreadsStarting.get() > 0;
    }

    void leave() {
        waiting.decrementAndGet();
    }
}
