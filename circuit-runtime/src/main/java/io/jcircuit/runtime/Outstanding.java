package io.jcircuit.runtime;

import io.netty.buffer.ByteBuf;

/**
 * A request sent to a peer whose answer has not come yet: a caller waiting for it
 * ({@link PendingCall}) or a future to complete ({@link AsyncCall}). The event loop completes it with
 * the answer's payload, a link going down fails it, and {@link CallDeadlines} expires it. Exactly one
 * of the three counts; the others are ignored (a payload that loses is released).
 */
abstract sealed class Outstanding extends CallDeadlines.Expiring permits PendingCall, AsyncCall {

    /** The caller's deadline, as a {@link System#nanoTime()}. */
    @Override
    abstract long deadline();

    /** Hands over {@code payload}, which the call then owns. */
    abstract void complete(ByteBuf payload);

    abstract void fail(RuntimeException failure);

    /** The deadline passed: the call gives up unless an outcome came first. */
    @Override
    abstract void expire();
}
