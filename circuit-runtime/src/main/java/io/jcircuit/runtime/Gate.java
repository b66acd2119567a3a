package io.jcircuit.runtime;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The door of one export, for hot swap. Open, calls pass with one atomic increment and decrement.
 * {@link #freeze Frozen}, new calls wait at the door while the calls already inside finish; then the
 * export is either {@link #forward forwarded}, and the waiting and later calls are sent to the
 * replacement, or {@link #reopen reopened}, and they run here as before (a swap that rolled back).
 *
 * <p>Entry uses a store-then-check on two volatiles: a call increments {@code active}, then reads the
 * state; {@link #freeze} writes the state, then waits for {@code active} to drain. Either the call
 * sees the freeze and backs out, or the freeze sees the call and waits for it.
 */
final class Gate {

    private static final Object OPEN = new Object();
    private static final Object FROZEN = new Object();

    private final AtomicInteger active = new AtomicInteger();
    /** OPEN, FROZEN, or the replacement (a reference) calls go to. */
    private volatile Object state = OPEN;
    /** Counts the freezes; guarded by this. */
    private long freezes;

    /**
     * A call arrives. Returns null when it may run here (then {@link #exit} must follow), or the
     * replacement to redirect it to. Waits while the export is frozen, at most until {@code deadline}.
     *
     * @return null, or the replacement reference
     * @throws InterruptedException when interrupted while waiting
     * @throws java.util.concurrent.TimeoutException when the deadline passes while frozen
     */
    Object enter(long deadlineNanos) throws InterruptedException, java.util.concurrent.TimeoutException {
        active.incrementAndGet();
        Object s = state;
        if (s == OPEN) {
            return null;
        }
        exit();
        synchronized (this) {
            while ((s = state) == FROZEN) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new java.util.concurrent.TimeoutException("the export stayed frozen for a hot swap past the call's deadline");
                }
                wait(Math.max(1, left / 1_000_000));
            }
            if (s == OPEN) {
                active.incrementAndGet();
                return null;
            }
            return s;
        }
    }

    /** A call that {@link #enter entered} is over. */
    void exit() {
        if (active.decrementAndGet() == 0 && state != OPEN) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * Stops letting calls in and waits until none is running, at most {@code timeoutNanos}. Returns
     * how many are still running (0 when drained). The export stays frozen either way. One freeze at a
     * time: a second swap of the export while one is under way is refused, as it would hand out the
     * state the first one has already taken.
     */
    int freeze(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (this) {
            if (state == FROZEN) {
                throw new IllegalStateException("the export is frozen already: another hot swap of it is under way");
            }
            if (state != OPEN) {
                throw new IllegalStateException("the export is already forwarded to " + state);
            }
            state = FROZEN;
            freezes++;
            int n;
            while ((n = active.get()) > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return n;
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return 0;
        }
    }

    /** Sends the waiting calls, and every later one, to {@code replacement}; only from frozen. */
    synchronized void forward(Object replacement) {
        if (state != FROZEN) {
            throw new IllegalStateException(state == OPEN ? "the export is not frozen (its freeze was let go): not forwarded"
                : "the export is already forwarded to " + state);
        }
        state = java.util.Objects.requireNonNull(replacement, "replacement");
        notifyAll();
    }

    /** The number of the current (or last) freeze, to {@link #reopenIfStillFrozen} it later. */
    synchronized long freezeNumber() {
        return freezes;
    }

    /** Reopens the export when freeze {@code number} is still on (its swap neither went on nor back); returns whether it did. */
    synchronized boolean reopenIfStillFrozen(long number) {
        if (state != FROZEN || freezes != number) {
            return false;
        }
        state = OPEN;
        notifyAll();
        return true;
    }

    /** Lets calls run here again (a swap that rolled back). */
    synchronized void reopen() {
        state = OPEN;
        notifyAll();
    }

    /** The replacement calls go to, or null while open or frozen. */
    Object forwardedTo() {
        Object s = state;
        return s == OPEN || s == FROZEN ? null : s;
    }

    /** Whether calls wait at the door now (a freeze is on), for tests. */
    boolean frozen() {
        return state == FROZEN;
    }

    /** Calls running here now. */
    int active() {
        return active.get();
    }

    /**
     * An asynchronous call whose method has returned and whose future has not completed: it holds its
     * place in the gate ({@link #pend}) until it is {@linkplain #settle settled}, or until a freeze that has
     * waited its drain out {@linkplain #abandonPending abandons} it.
     */
    interface Pending {
        /** The freeze went on without it: its caller is told so. Called once, after the gate let it go. */
        void abandon();
    }

    /** The calls that hold their place only for their futures; see {@link Pending}. */
    private final java.util.Set<Pending> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** {@code p}, which entered, keeps its place until {@link #settle} or {@link #abandonPending}. */
    void pend(Pending p) {
        pending.add(p);
    }

    /** {@code p}'s future completed (or its caller's deadline passed): it leaves. Once; false when it had left. */
    boolean settle(Pending p) {
        if (pending.remove(p)) {
            exit();
            return true;
        }
        return false;
    }

    /** How many of the calls that hold a place here only wait for their futures. */
    int pendingCount() {
        return pending.size();
    }

    /** Lets every {@link Pending} call go and abandons it; returns how many there were. */
    int abandonPending() {
        int n = 0;
        for (Pending p : pending) {
            if (pending.remove(p)) {
                exit();
                p.abandon();
                n++;
            }
        }
        return n;
    }
}
