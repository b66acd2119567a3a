package io.jcircuit.observe;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Carries the OpenTelemetry {@link Context} across runtimes: the caller's current context (trace,
 * baggage, whatever its {@link TextMapPropagator} propagates, usually W3C {@code traceparent},
 * {@code tracestate} and {@code baggage}) travels in the call's interceptor context and is current on
 * the callee while the method runs. Register one on every runtime:
 * {@code circuit.intercept(new OpenTelemetryPropagation(openTelemetry, tracer))}.
 *
 * <p>Given a {@link Tracer}, it also traces each call: a {@link SpanKind#CLIENT} span on the caller
 * from {@code outgoing} to {@code completed}, and a {@link SpanKind#SERVER} span on the callee around
 * the method, both named by the method ({@code Greeter.greet(String)}, {@code go}, {@code dial NAME}),
 * with {@code rpc.system=jcircuit}, {@code rpc.method} and the peer's worker id. A call that throws or
 * fails ends its spans with status {@link StatusCode#ERROR}; the server span records the exception.
 * The server span of a method that returns a {@link CompletionStage} (an asynchronous method) ends
 * when that completes, with status ERROR and the exception when it completes exceptionally.
 * Service lookups and reference acquisitions get a client span only: the callee serves them without
 * the {@code incoming} hook.
 *
 * <p><b>Threading.</b> The caller's span is begun on the calling thread, in {@code outgoing}, and ended
 * in that call's {@code completed}, found again by the call's id: on the calling thread for a
 * synchronous call, on the thread that settled it for an asynchronous one. One instance may serve
 * several runtimes. It never fails a call: the propagator and the tracer are OpenTelemetry's, which do
 * not throw.
 */
public final class OpenTelemetryPropagation implements CallInterceptor {

    /** The value of {@code rpc.system} on its spans. */
    public static final String RPC_SYSTEM = "jcircuit";

    static final AttributeKey<String> RPC_SYSTEM_KEY = AttributeKey.stringKey("rpc.system");
    static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
    static final AttributeKey<String> PEER = AttributeKey.stringKey("jcircuit.peer");
    static final AttributeKey<Long> BYTES_SENT = AttributeKey.longKey("jcircuit.bytes_sent");
    static final AttributeKey<Long> BYTES_RECEIVED = AttributeKey.longKey("jcircuit.bytes_received");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("jcircuit.outcome");

    private static final TextMapSetter<Map<String, String>> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier.put(key, value);
        }
    };

    private static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
        /** Deprecated in the API, but propagators that read prefixed fields (Jaeger's baggage) still ask. */
        @Override
        @SuppressWarnings("deprecation")
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final TextMapPropagator propagator;
    private final Tracer tracer;
    private final CallsInFlight<Span> clientSpans = new CallsInFlight<>();

    /** Propagation only: no spans of its own. */
    public OpenTelemetryPropagation(OpenTelemetry openTelemetry) {
        this(openTelemetry, null);
    }

    /**
     * Propagation, and client and server spans from {@code tracer} when it is not null (for instance
     * {@code openTelemetry.getTracer("io.jcircuit")}).
     */
    public OpenTelemetryPropagation(OpenTelemetry openTelemetry, Tracer tracer) {
        this.propagator = Objects.requireNonNull(openTelemetry, "openTelemetry").getPropagators()
            .getTextMapPropagator();
        this.tracer = tracer;
    }

    @Override
    public void outgoing(CallInfo call, Map<String, String> context) {
        Context current = Context.current();
        if (tracer != null) {
            Span span = tracer.spanBuilder(call.method()).setParent(current).setSpanKind(SpanKind.CLIENT)
                .setAttribute(RPC_SYSTEM_KEY, RPC_SYSTEM)
                .setAttribute(RPC_METHOD, call.method())
                .setAttribute(PEER, call.peer().toString())
                .startSpan();
            clientSpans.put(call, span);
            current = current.with(span);
        }
        propagator.inject(current, context, SETTER);
    }

    @Override
    @SuppressWarnings("try") // the scope is only closed, never read
    public Object incoming(CallInfo call, Map<String, String> context, Proceed proceed) throws Throwable {
        Context remote = propagator.extract(Context.current(), context, GETTER);
        if (tracer == null) {
            try (Scope ignored = remote.makeCurrent()) {
                return proceed.proceed();
            }
        }
        Span span = tracer.spanBuilder(call.method()).setParent(remote).setSpanKind(SpanKind.SERVER)
            .setAttribute(RPC_SYSTEM_KEY, RPC_SYSTEM)
            .setAttribute(RPC_METHOD, call.method())
            .setAttribute(PEER, call.peer().toString())
            .startSpan();
        Object result;
        try (Scope ignored = remote.with(span).makeCurrent()) {
            result = proceed.proceed();
        } catch (Throwable t) {
            threw(span, t);
            span.end();
            throw t;
        }
        if (result instanceof CompletionStage<?> later) {
            endWhenDone(span, later);
        } else {
            span.end();
        }
        return result;
    }

    /** An asynchronous method goes on until its future completes, on whatever thread completes it. */
    private static void endWhenDone(Span span, CompletionStage<?> later) {
        try {
            later.whenComplete((value, failure) -> {
                if (failure != null) {
                    threw(span, failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure);
                }
                span.end();
            });
        } catch (RuntimeException e) {
            span.end(); // a stage of the application's that takes no dependents: the call goes on regardless
        }
    }

    private static void threw(Span span, Throwable t) {
        span.setStatus(StatusCode.ERROR, t.getClass().getName());
        span.recordException(t);
    }

    @Override
    public void completed(CallEvent e) {
        if (tracer == null || e.direction() != Direction.OUT) {
            return; // server spans end in incoming, or when an asynchronous method's future completes
        }
        Span span = clientSpans.take(e);
        if (span == null) {
            return; // begun before this interceptor was added
        }
        span.setAttribute(BYTES_SENT, e.bytesOut());
        span.setAttribute(BYTES_RECEIVED, e.bytesIn());
        span.setAttribute(OUTCOME, e.outcome().name());
        if (e.outcome() != CallEvent.Outcome.OK) {
            span.setStatus(StatusCode.ERROR, e.outcome() == CallEvent.Outcome.THREW
                ? "the method threw" : "no answer: deadline, peer died, or not sent");
        }
        span.end();
    }

    @Override
    public String toString() {
        return tracer == null ? "OpenTelemetryPropagation" : "OpenTelemetryPropagation with spans";
    }
}
