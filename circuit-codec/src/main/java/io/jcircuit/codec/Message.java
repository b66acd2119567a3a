package io.jcircuit.codec;

import io.jcircuit.Fn;

/**
 * Every message two runtimes exchange, one per DATA frame. The set is closed: code that handles
 * messages switches over it exhaustively, with no default branch.
 *
 * <p>Every message carries a call id. Requests ({@link Call}, {@link Go}, {@link Lookup}) take a fresh
 * id from the sender; answers ({@link Reply}, {@link Failure}) repeat the id of the request they answer.
 * A request also carries the nanoseconds left until its deadline, so the callee can bound the work
 * it does (and the calls it makes) on the caller's behalf.
 */
public sealed interface Message {

    long callId();

    /** Invoke {@code method} on the object exported under {@code handle}. */
    record Call(long callId, long handle, String method, Object[] args, long timeoutNanos) implements Message {
    }

    /** Run {@code fn} on a new virtual thread and reply with its result. */
    record Go(long callId, Fn<?> fn, long timeoutNanos) implements Message {
    }

    /** Reply with a reference to the service published under {@code service}. */
    record Lookup(long callId, String service, long timeoutNanos) implements Message {
    }

    /** The request {@code callId} returned {@code value}. */
    record Reply(long callId, Object value) implements Message {
    }

    /** The request {@code callId} threw; {@code failure} describes the exception. */
    record Failure(long callId, RemoteFailure failure) implements Message {
    }
}
