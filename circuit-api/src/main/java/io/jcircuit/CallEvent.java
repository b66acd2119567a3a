package io.jcircuit;

/**
 * A finished call that crossed runtimes, as {@link CallInterceptor#completed} sees it.
 *
 * @param direction     {@code OUT} on the caller, {@code IN} on the callee
 * @param peer          the runtime on the other side
 * @param method        {@code Interface.method(ParamType,...)}, {@code go} or {@code dial NAME}: on the caller
 *                      the name {@code outgoing} saw, also for a lookup that found nothing; on the callee, a
 *                      lookup of a name that is not there is {@code dial (no such service)}, as in the call
 *                      metrics, which count all such lookups under that one name on both sides; {@code ?} on
 *                      the callee for a request it did not read (it could not, or refused it as it closed)
 * @param bytesOut      payload bytes this side sent: the request on the caller, the answer on the callee
 * @param bytesIn       payload bytes this side received: the answer on the caller (0 when none came), the
 *                      request on the callee
 * @param durationNanos on the caller, from just before {@code outgoing} to just after decoding the answer
 *                      (waiting for a first connection to the peer, or for an outgoing slot, included); on
 *                      the callee, from decoding the request to encoding the answer
 * @param outcome       how it ended
 * @param callId        the call's number, as {@link CallInterceptor.CallInfo#callId()} gave it to the hook that
 *                      began the call ({@code outgoing} or {@code incoming}): pair the hooks of one call by
 *                      {@code direction}, {@code peer} and {@code callId}, since this event may come on another
 *                      thread (see {@link CallInterceptor#completed})
 */
public record CallEvent(CallInterceptor.Direction direction, WorkerId peer, String method, long bytesOut, long bytesIn,
                        long durationNanos, Outcome outcome, long callId) {

    /** How a call ended. */
    public enum Outcome {
        /** The method returned. */
        OK,
        /** The method threw; the exception reached the caller. */
        THREW,
        /**
         * No answer: the deadline passed, the peer died, or the request or answer could not be sent (on
         * the callee: its answer was dropped, or a failure that says why went in its place).
         */
        FAILED
    }
}
