package io.jcircuit;

import java.util.List;

/**
 * The owner's side of a {@link Chan}, called through a reference. Applications use {@link Chan};
 * this is its wire contract. Batches keep a stream to one call per batch.
 */
public interface ChanCore {

    /**
     * Appends {@code items} in order, as many as fit, waiting up to {@code waitMillis} (0: not at all)
     * while the channel is full; returns how many went in. Callers loop with the rest, so that no
     * single call outlives its deadline. An empty batch puts nothing in, and asks whether the channel
     * is still open: it throws once it is closed.
     *
     * @throws ChanClosedException when the channel is closed
     */
    int sendBatch(List<?> items, long waitMillis);

    /**
     * Takes up to {@code max} items, blocking up to {@code waitMillis} (0: not at all) for the first.
     * Returns an empty list when none came in time, and {@code null} once the channel is closed and
     * drained.
     */
    List<?> receiveBatch(int max, long waitMillis);

    /**
     * As {@link #receiveBatch}, and the owner keeps the batch it hands out as loan {@code loan} (a number
     * the caller chose, not 0) until the caller settles it or {@linkplain #giveBack gives it back}: a
     * caller that cannot read the answer (an item of a class it cannot load), or that had given up on it
     * (its deadline passed first), puts the items back, and nothing is lost.
     *
     * <p>First, the loans in {@code unread} (null: none) are given back, in that order, and loan
     * {@code settled} (0: none), which the caller read, is let go. A loan that was given back before its
     * receive reached the owner lends nothing: that receive returns an empty list (unless the owner's
     * mark of it was pushed out by 1,024, or four times its capacity, more such marks). The owner lets a loan
     * go after {@link #LOAN_MILLIS}, and the oldest ones early while more than {@link #LOANS_PER_CAPACITY}
     * times its capacity (and more than 64 items) are lent.
     */
    List<?> receiveLent(int max, long waitMillis, long loan, long settled, long[] unread);

    /**
     * Puts the items of loan {@code loan} back at the front of the channel, in order, unless they went
     * back already; returns how many went back now. A loan the owner does not hold yet (its receive is
     * still on its way) is marked given back, so that its receive lends nothing. Idempotent.
     */
    int giveBack(long loan);

    /** How long the owner keeps a loan that its caller neither settled nor gave back. */
    long LOAN_MILLIS = 60_000;

    /** The owner lends at most this many times its capacity (or 64 items, if more); beyond that, the oldest loans go early. */
    int LOANS_PER_CAPACITY = 4;

    /** Closes the channel: sends fail from now on, receivers drain what is left. Idempotent. */
    void close();

    /** The channel's capacity. */
    int capacity();

    /**
     * The least margin a call keeps before the caller's deadline for its answer's way back (and the
     * request's way there, which the owner does not see): a batch taken for a caller that has given up
     * would be lost, and one put in for it would be a send it was told had failed. On a loaded machine
     * a millisecond was not enough (a CI run lost a batch that way).
     */
    long MIN_MARGIN_NANOS = 20_000_000L;

    /**
     * How long a call may wait for room or items, at most {@code waitMillis}, within the current scope's
     * deadline ({@link Deadline}) less a margin (a quarter of the time left, 20 to 100 ms); -1 when too
     * little is left to hand anything over. {@link Chan} asks the owner for no more, and the owner's
     * implementation waits no longer either.
     */
    static long waitNanos(long waitMillis) {
        return waitNanos(waitMillis, marginNanos());
    }

    /**
     * As {@link #waitNanos(long)}, with the margin {@code marginNanos} that one channel operation took
     * when it began ({@link #marginNanos()}): each of its calls, the last included, keeps that much for
     * its answer's way back. A margin taken again before each call would shrink to its 20 ms floor for
     * the last one, and an answer later than that leaves unknown whether its batch went.
     */
    static long waitNanos(long waitMillis, long marginNanos) {
        long nanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.max(0, waitMillis));
        java.util.OptionalLong left = Deadline.remainingNanos();
        if (left.isEmpty()) {
            return nanos;
        }
        long usable = left.getAsLong() - marginNanos;
        return usable < 0 ? -1 : Math.min(nanos, usable);
    }

    /** The margin for the current scope's deadline: a quarter of the time left, 20 to 100 ms (0 without a deadline). */
    static long marginNanos() {
        java.util.OptionalLong left = Deadline.remainingNanos();
        return left.isEmpty() ? 0 : Math.max(MIN_MARGIN_NANOS, Math.min(100_000_000L, left.getAsLong() / 4));
    }
}
