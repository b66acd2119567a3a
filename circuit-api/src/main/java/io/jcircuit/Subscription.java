package io.jcircuit;

/** A running {@link Anchors#watch}, {@link Anchors#subscribe} or {@link Durable#watch}; close to stop it. */
public interface Subscription extends AutoCloseable {

    /** Stops the notifications. Idempotent; a call in progress finishes. */
    @Override
    void close();
}
