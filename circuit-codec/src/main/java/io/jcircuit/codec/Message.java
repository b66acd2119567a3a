package io.jcircuit.codec;

import io.jcircuit.Fn;

import java.util.Map;

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

    /**
     * Invoke {@code method} on the object exported under {@code handle}. {@code context} carries what
     * the caller's interceptors attached (trace ids and the like): empty, never null, when nothing.
     */
    record Call(long callId, long handle, String method, Object[] args, long timeoutNanos,
                Map<String, String> context) implements Message {
        public Call {
            context = context == null ? Map.of() : context;
        }

        public Call(long callId, long handle, String method, Object[] args, long timeoutNanos) {
            this(callId, handle, method, args, timeoutNanos, Map.of());
        }
    }

    /** Run {@code fn} on a new virtual thread and reply with its result; {@code context} as for {@link Call}. */
    record Go(long callId, Fn<?> fn, long timeoutNanos, Map<String, String> context) implements Message {
        public Go {
            context = context == null ? Map.of() : context;
        }

        public Go(long callId, Fn<?> fn, long timeoutNanos) {
            this(callId, fn, timeoutNanos, Map.of());
        }
    }

    /** Reply with a reference to the service published under {@code service}. */
    record Lookup(long callId, String service, long timeoutNanos) implements Message {
    }

    /**
     * The sender now holds a reference to the export {@code handle} here, received from a third
     * runtime: count it as a holder (distributed GC). Answered with an empty {@link Reply}, or a
     * {@link Failure} when the export is gone.
     */
    record Acquire(long callId, long handle, long timeoutNanos) implements Message {
    }

    /**
     * One-way, call id 0: the sender dropped its references to these exports. {@code counts[i]} is how
     * many times it received {@code handles[i]} (from this runtime, or acquired); the exporter
     * subtracts that many from the sender's holds.
     */
    record Release(long callId, long[] handles, long[] counts) implements Message {
    }

    /** The request {@code callId} returned {@code value}. */
    record Reply(long callId, Object value) implements Message {
    }

    /** The request {@code callId} threw; {@code failure} describes the exception. */
    record Failure(long callId, RemoteFailure failure) implements Message {
    }
}
