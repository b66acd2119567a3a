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
     * single call outlives its deadline.
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

    /** Closes the channel: sends fail from now on, receivers drain what is left. Idempotent. */
    void close();

    /** The channel's capacity. */
    int capacity();
}
