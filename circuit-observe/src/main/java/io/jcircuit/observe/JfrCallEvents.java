package io.jcircuit.observe;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;

import java.util.Map;

/**
 * Records one JFR event, {@value #EVENT_NAME} ("Remote Call", category JCircuit), for every call that
 * crosses the runtime it is registered with, on both sides: direction, peer, method, bytes each way
 * and outcome. Register it with {@code circuit.intercept(new JfrCallEvents())}; turn the event on in
 * a recording ({@code recording.enable(JfrCallEvents.EVENT_NAME).withoutThreshold()} for every call, or
 * a {@code .jfc} setting). A recording that does not mention it keeps the calls slower than
 * {@value #DEFAULT_THRESHOLD}.
 *
 * <p><b>Duration.</b> The event is begun in the hook that starts the call ({@code outgoing} on the
 * caller, {@code incoming} on the callee) and ended and committed in that call's {@code completed},
 * found again by the call's id; so JFR's own start time and duration cover the call and JFR thresholds
 * apply to it. A synchronous call completes on the thread that made or served it, and its event nests
 * under the events of whatever that thread did meanwhile; an asynchronous call (of a method returning
 * a {@code CompletableFuture}) completes on the thread that settled it, which is the event's thread.
 * The callee commits in {@code completed} rather than when {@code incoming} returns, because only
 * {@code completed} knows the size of the answer. Calls served without {@code incoming} (service
 * lookups, and requests refused before the method ran) and calls that were already under way when the
 * recording began are begun at {@code completed}: their JFR duration is near zero, and the
 * {@code callDuration} field, which every event carries, gives the runtime's figure.
 *
 * <p><b>Cost.</b> When the event is not enabled in any recording each hook allocates one event that
 * the JIT can elide, asks {@link jdk.jfr.Event#isEnabled()} and returns. When it is enabled a call
 * also keeps its event in a map of the calls in flight from start to end.
 *
 * <p><b>Threading.</b> Stateless apart from that map, which any thread may use: one instance may
 * serve any number of runtimes.
 */
public final class JfrCallEvents implements CallInterceptor {

    /** The JFR name of the event. */
    public static final String EVENT_NAME = "io.jcircuit.RemoteCall";

    /**
     * The event's threshold unless a recording sets one: as for the JDK's socket events, a recording
     * with default settings keeps the slow calls only.
     */
    public static final String DEFAULT_THRESHOLD = "20 ms";

    private final CallsInFlight<RemoteCallEvent> begun = new CallsInFlight<>();

    @Override
    public void outgoing(CallInfo call, Map<String, String> context) {
        begin(call);
    }

    @Override
    public Object incoming(CallInfo call, Map<String, String> context, Proceed proceed) throws Throwable {
        begin(call);
        return proceed.proceed();
    }

    @Override
    public void completed(CallEvent e) {
        RemoteCallEvent event = begun.take(e); // also when the recording has stopped meanwhile: not kept for ever
        if (event == null) {
            event = new RemoteCallEvent();
            if (!event.isEnabled()) {
                return;
            }
            event.begin();
        }
        event.end();
        if (event.shouldCommit()) {
            event.direction = e.direction().name();
            event.peer = e.peer().toString();
            event.method = e.method();
            event.bytesOut = e.bytesOut();
            event.bytesIn = e.bytesIn();
            event.outcome = e.outcome().name();
            event.callDuration = e.durationNanos();
            event.commit();
        }
    }

    private void begin(CallInfo call) {
        RemoteCallEvent event = new RemoteCallEvent();
        if (event.isEnabled()) {
            event.begin();
            begun.put(call, event);
        }
    }

    @Override
    public String toString() {
        return "JfrCallEvents";
    }
}
