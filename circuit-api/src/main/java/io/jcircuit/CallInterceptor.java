package io.jcircuit;

import java.util.Map;

/**
 * Sees every call that crosses runtimes, in both directions: remote method calls, {@code go} and
 * service lookups. Register one with {@link Circuit#intercept}; JFR events, Prometheus metrics and
 * OpenTelemetry propagation are built this way.
 *
 * <p>The three hooks run on the threads that make and serve the calls, so they must be quick and
 * must not block. Whatever {@link #outgoing} or {@link #completed} throws, an exception or an error
 * (an {@link AssertionError}, a {@link NoClassDefFoundError} of an optional dependency), is logged and
 * otherwise ignored: instrumentation never fails a call, nor the link it came on. For each interceptor,
 * the first 3 such warnings are logged, then at most one a minute, which says how many were left out
 * (the warnings of a context dropped, {@link #outgoing}, are limited the same way). Only a
 * {@link VirtualMachineError} (an {@link OutOfMemoryError}, a {@link StackOverflowError}) goes on up
 * as one thrown by the runtime's own code would; one from {@link #completed} does so once the other
 * interceptors' {@code completed} have run. An asynchronous call's future completes all the same, and on
 * the callee, where it comes after the answer has gone, it is logged: the link and its other calls go on.
 *
 * <p>Each call this runtime makes to another runtime gets one {@link #outgoing} and then exactly
 * one {@link #completed}, also one that fails before it is sent: its peer has died, or its deadline
 * passed while it waited. Each request another runtime sends this one gets exactly one {@link #completed}
 * here, also one that is not run: one it could not read, or refused as it closed ({@code FAILED}, with the
 * method {@code ?} when it was not read; {@link #incoming} did not run for those), and one whose serving
 * failed in the runtime, outside the method ({@code FAILED}: its caller gets that failure).
 *
 * <p><b>Pairing the hooks of one call.</b> {@link #completed} need not run on the thread that ran
 * {@link #outgoing} or {@link #incoming}: an asynchronous call (of a method returning a
 * {@code CompletableFuture}) completes on the thread that settles it, on either side. An interceptor
 * that begins something in one hook and ends it in {@code completed} pairs them by
 * {@link CallInfo#callId()} and {@link CallEvent#callId()} (with the direction and the peer), never by
 * thread.
 *
 * <pre>{@code
 * circuit.intercept(new CallInterceptor() {
 *     public void completed(CallEvent e) {
 *         if (e.durationNanos() > 50_000_000) log.warn("slow call {}", e);
 *     }
 * });
 * }</pre>
 */
public interface CallInterceptor {

    /**
     * Caller's thread, before the request is encoded. Entries put into {@code context} travel with
     * the request and reach the callee's {@link #incoming}. Keys and values are short strings (at
     * most 64 entries in all). An entry the call cannot carry, one with a null key or value or one
     * past the 64th, is dropped with a warning naming this interceptor; the call goes with the rest.
     */
    default void outgoing(CallInfo call, Map<String, String> context) {
    }

    /**
     * Callee's thread, around the call: must return {@code proceed.proceed()} (or throw what it
     * throws). {@code context} holds what the caller's interceptors put in; it is empty, never null,
     * when they put nothing.
     */
    default Object incoming(CallInfo call, Map<String, String> context, Proceed proceed) throws Throwable {
        return proceed.proceed();
    }

    /**
     * After every call, on either side, with its sizes, duration and outcome. On the caller: the calling
     * thread for a synchronous call, the runtime's completer thread for an asynchronous one. On the
     * callee: the thread that sent the answer, which for an asynchronous method is the one that
     * completed its future or a runtime thread.
     */
    default void completed(CallEvent event) {
    }

    /** The rest of an incoming call: the interceptors after this one, then the method itself. */
    @FunctionalInterface
    interface Proceed {
        Object proceed() throws Throwable;
    }

    /** Which side of a call an interceptor sees. */
    enum Direction {
        /** This runtime made the call. */
        OUT,
        /** This runtime served the call. */
        IN
    }

    /**
     * One call: the peer on the other side, the method as {@code Interface.method(ParamType,...)}
     * ({@code go} for a function run by {@code go}, {@code dial NAME} for a service lookup), and the
     * call's id.
     *
     * @param callId the call's number, which {@link CallEvent#callId()} repeats for the same call. A
     *               runtime numbers its outgoing calls from one counter that all the runtimes of its JVM
     *               share, and an incoming call keeps its caller's number; so {@code direction},
     *               {@code peer} and {@code callId} together tell apart the calls in flight, also for an
     *               interceptor registered with several runtimes.
     */
    record CallInfo(Direction direction, WorkerId peer, String method, long callId) {
    }
}
