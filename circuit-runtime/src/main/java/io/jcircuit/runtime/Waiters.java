package io.jcircuit.runtime;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts one runtime's callers that wait for an answer, so that a caller waiting alone may poll for
 * its answer a short while before it parks. Parking costs a wake-up when the answer comes, about 10 us
 * on the VMs we measure on; polling costs CPU. With several callers waiting, the CPU is better left to
 * them and to the event loop, so only a lone waiter polls, and it stops as soon as a second one comes.
 */
final class Waiters {

    private final AtomicInteger waiting = new AtomicInteger();
    private final long spinNanos;

    /** @param spinMicros the polling budget of a lone waiter; 0 parks at once */
    Waiters(int spinMicros) {
        this.spinNanos = TimeUnit.MICROSECONDS.toNanos(spinMicros);
    }

    /** Starts a wait; returns how long this caller may poll, 0 unless it waits alone. */
    long enter() {
        return waiting.incrementAndGet() == 1 ? spinNanos : 0;
    }

    boolean alone() {
        return waiting.get() == 1;
    }

    void leave() {
        waiting.decrementAndGet();
    }
}
