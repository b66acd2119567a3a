package io.jcircuit.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One outgoing request waiting for its answer. The event loop completes it with the answer's payload
 * or fails it when the link goes down; the calling thread waits until then or its deadline. A
 * platform thread parks with a timeout; a virtual thread parks untimed and leaves its deadline to
 * {@link CallDeadlines}, which expires the call when it is due.
 *
 * <p>Exactly one outcome wins: a payload that arrives after the caller gave up is released here.
 */
final class PendingCall extends Outstanding {

    private static final Object GAVE_UP = new Object();
    /** The caller gave up by itself (interrupted, or its own timed park ran out). */
    private static final Object GAVE_UP_HERE = new Object();

    private final Thread waiter = Thread.currentThread();
    private final long deadline;
    private final AtomicReference<Object> outcome = new AtomicReference<>();
    private final Waiters waiters;

    /** @param deadline the caller's deadline, as a {@link System#nanoTime()} */
    PendingCall(long deadline, Waiters waiters) {
        this.deadline = deadline;
        this.waiters = waiters;
    }

    @Override
    long deadline() {
        return deadline;
    }

    @Override
    void complete(ByteBuf payload) {
        if (outcome.compareAndSet(null, payload)) {
            waiters.answered();
            LockSupport.unpark(waiter);
        } else {
            ReferenceCountUtil.release(payload);
        }
    }

    @Override
    void fail(RuntimeException failure) {
        if (outcome.compareAndSet(null, failure)) {
            waiters.answered();
            LockSupport.unpark(waiter);
        }
    }

    @Override
    void expire() {
        if (outcome.compareAndSet(null, GAVE_UP)) {
            waiters.answered();
            LockSupport.unpark(waiter);
        }
    }

    /**
     * Waits until an outcome arrives or the deadline passes: a caller that {@link Waiters} lets poll
     * first polls briefly, then it parks. Returns the answer payload, or {@code null} on timeout.
     *
     * @param deadlines where a virtual thread registers its deadline
     * @throws RuntimeException the failure the call was failed with
     * @throws InterruptedException when the caller is interrupted (the call is abandoned)
     */
    ByteBuf await(CallDeadlines deadlines) throws InterruptedException {
        long spin = waiters.enter();
        try {
            if (spin > 0) {
                try {
                    poll(spin);
                } finally {
                    waiters.endPoll();
                }
            }
            return park(deadlines);
        } finally {
            waiters.leave();
        }
    }

    /**
     * The caller is done with this call, whether or not it waited: an outcome not set yet can no
     * longer be, and an outcome another thread set is no longer waiting to be taken
     * ({@link Waiters#answered}). Called once, after {@link #await} if the caller waited.
     */
    void settle() {
        if (outcome.get() == null && outcome.compareAndSet(null, GAVE_UP_HERE)) {
            return;
        }
        if (outcome.get() != GAVE_UP_HERE) {
            waiters.answerTaken();
        }
    }

    /**
     * Polls for the outcome for up to {@code spinNanos}, running the event loop or yielding on each turn
     * ({@link Waiters#pollTurn}), while {@link Waiters}
     * lets it.
     */
    private void poll(long spinNanos) {
        long end = System.nanoTime() + spinNanos;
        boolean held = false;
        try {
            while (outcome.get() == null && waiters.mayKeepPolling() && System.nanoTime() - end < 0) {
                held = waiters.pollTurn(held, waiters.waitsAlone());
            }
        } finally {
            waiters.letGo(held);
        }
    }

    private ByteBuf park(CallDeadlines deadlines) throws InterruptedException {
        Object o;
        if (waiter.isVirtual()) {
            deadlines.add(this);
            try {
                while ((o = outcome.get()) == null) {
                    LockSupport.park(this);
                    checkInterrupt();
                }
            } finally {
                deadlines.remove(this);
            }
        } else {
            while ((o = outcome.get()) == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                LockSupport.parkNanos(this, left);
                checkInterrupt();
            }
            if (o == null) {
                o = giveUp();
            }
        }
        if (o == null || o == GAVE_UP || o == GAVE_UP_HERE) {
            return null;
        }
        if (o instanceof RuntimeException failure) {
            throw failure;
        }
        return (ByteBuf) o;
    }

    private void checkInterrupt() throws InterruptedException {
        if (Thread.interrupted()) {
            if (giveUp() instanceof ByteBuf lateAnswer) {
                lateAnswer.release(); // the answer won the race, but nobody will read it
            }
            throw new InterruptedException("interrupted while waiting for a remote call");
        }
    }

    /** Marks the call abandoned; returns an outcome that won the race, if any. */
    private Object giveUp() {
        if (outcome.compareAndSet(null, GAVE_UP_HERE)) {
            return null;
        }
        Object o = outcome.get();
        return o == GAVE_UP || o == GAVE_UP_HERE ? null : o;
    }
}
