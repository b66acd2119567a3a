package io.jcircuit.runtime;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces the deadlines of calls made from virtual threads, so that those threads can park without
 * a timeout, and of asynchronous calls, which have no thread waiting at all.
 *
 * <p>A timed park of a virtual thread arms a timer in the JDK's scheduler and disarms it when the
 * answer comes; on a busy link that costs a wake-up of the scheduler's timer thread on most calls
 * (measured: about a quarter of the calls/s with 8 callers). Instead such callers park untimed and
 * register here, and one platform thread per runtime sleeps until the earliest registered deadline,
 * then expires what is due. It lingers a second after the last waiter before parking for good, so a
 * steady stream of calls never has to wake it; only a call whose deadline comes before the thread's
 * planned wake-up does. Platform-thread callers keep using timed parks, which cost no extra thread.
 */
final class CallDeadlines implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CallDeadlines.class);

    /** Something given up at a deadline: a call's wait for its answer, or a callee's for its future. */
    abstract static class Expiring {
        /** The deadline, as a {@link System#nanoTime()}. */
        abstract long deadline();

        /** The deadline passed: give up unless the outcome came first. */
        abstract void expire();
    }

    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long NEVER = Long.MAX_VALUE;

    private final Set<Expiring> waiting = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    /** When the sweeper next looks, as a nanoTime; {@link #NEVER} while it is parked for good. */
    private volatile long plannedWake = NEVER;
    private volatile boolean closed;

    CallDeadlines(String owner) {
        thread = Thread.ofPlatform().daemon().name("circuit-deadlines-" + owner).unstarted(this::run);
        thread.start();
    }

    /** Registers a call whose thread is about to park untimed, an asynchronous call, or a callee's future. */
    void add(Expiring p) {
        waiting.add(p);
        long planned = plannedWake;
        if (planned == NEVER || p.deadline() - planned < 0) {
            LockSupport.unpark(thread);
        }
    }

    void remove(Expiring p) {
        waiting.remove(p);
    }

    private void run() {
        boolean idleBefore = false;
        while (!closed) {
            long now = System.nanoTime();
            long earliest = sweep(now);
            long wake;
            if (earliest != NEVER) {
                wake = earliest;
                idleBefore = false;
            } else {
                wake = idleBefore ? NEVER : now + LINGER_NANOS;
                idleBefore = true;
            }
            plannedWake = wake;
            // A caller that registered during the sweep read the old plan and may not have woken us:
            // look once more after publishing the new one.
            long again = sweep(System.nanoTime());
            if (again != NEVER && (wake == NEVER || again - wake < 0)) {
                continue;
            }
            if (wake == NEVER) {
                LockSupport.park(this);
            } else {
                long left = wake - System.nanoTime();
                if (left > 0) {
                    LockSupport.parkNanos(this, left);
                }
            }
        }
    }

    /**
     * Expires every call that is due; returns the earliest deadline left, or {@link #NEVER}. What one
     * expiry throws is logged and goes no further: this thread is the only one that expires deadlines,
     * so if it died, every later call of the runtime would wait past its deadline for ever.
     */
    private long sweep(long now) {
        long earliest = NEVER;
        for (Expiring p : waiting) {
            long d = p.deadline();
            if (d - now <= 0) {
                try {
                    p.expire();
                } catch (Throwable e) { // an Error too: an OutOfMemoryError may pass, the sweeper must stay
                    LOG.error("expiring {} at its deadline failed; the sweeper goes on with the others", p, e);
                } finally {
                    waiting.remove(p);
                }
            } else if (earliest == NEVER || d - earliest < 0) {
                earliest = d;
            }
        }
        return earliest;
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
