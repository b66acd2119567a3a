package io.jcircuit.observe;

import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.runtime.CircuitRuntime;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@SuppressWarnings("try") // scopes are only closed, never read
class OpenTelemetryPropagationTest {

    private static final AttributeKey<String> SERVICE = AttributeKey.stringKey("service.name");
    private static final String RELAY = "Greeter.relay(String)";
    private static final String LATER = "AsyncGreeter.greetLater(String,long)";
    private static final String FAIL_LATER = "AsyncGreeter.failLater(String)";

    @RegisterExtension
    final Runtimes runtimes = new Runtimes();

    /** One exporter for every runtime's SDK: the spans of all three land here, each with its service name. */
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final List<OpenTelemetrySdk> sdks = new ArrayList<>();

    @AfterEach
    void closeSdks() {
        sdks.forEach(OpenTelemetrySdk::close);
    }

    @Test
    void shouldTraceACallFromAThroughBToCAsOneTraceWithParentsAcrossRuntimesAndCarryBaggage() {
        OpenTelemetrySdk otelA = sdk("A");
        OpenTelemetrySdk otelB = sdk("B");
        OpenTelemetrySdk otelC = sdk("C");
        CircuitRuntime a = traced(otelA);
        CircuitRuntime b = traced(otelB);
        CircuitRuntime c = traced(otelC);
        c.listen("greeter", Greeter.class, new ContextEcho());
        b.listen("greeter", Greeter.class, new GreeterImpl(b.dial(c.address(), "greeter", Greeter.class)));
        Greeter toB = a.dial(b.address(), "greeter", Greeter.class);
        exporter.reset(); // the lookups above made spans of their own traces

        Tracer tracer = otelA.getTracer("test");
        Span root = tracer.spanBuilder("request").startSpan();
        String seenOnC;
        try (Scope s = root.makeCurrent();
             Scope bs = Baggage.current().toBuilder().put("tenant", "t-42").build().makeCurrent()) {
            seenOnC = toB.relay("tenant");
        } finally {
            root.end();
        }

        assertThat(seenOnC).isEqualTo("t-42");
        List<SpanData> spans = exporter.getFinishedSpanItems();
        assertThat(spans).hasSize(5);
        assertThat(spans).allSatisfy(sd -> assertThat(sd.getTraceId()).isEqualTo(root.getSpanContext().getTraceId()));
        SpanData request = span(spans, "A", SpanKind.INTERNAL);
        SpanData clientA = span(spans, "A", SpanKind.CLIENT);
        SpanData serverB = span(spans, "B", SpanKind.SERVER);
        SpanData clientB = span(spans, "B", SpanKind.CLIENT);
        SpanData serverC = span(spans, "C", SpanKind.SERVER);
        assertThat(request.getParentSpanContext().isValid()).isFalse();
        assertThat(clientA.getParentSpanId()).isEqualTo(request.getSpanId());
        assertThat(serverB.getParentSpanId()).isEqualTo(clientA.getSpanId());
        assertThat(serverB.getParentSpanContext().isRemote()).isTrue();
        assertThat(clientB.getParentSpanId()).isEqualTo(serverB.getSpanId());
        assertThat(serverC.getParentSpanId()).isEqualTo(clientB.getSpanId());
        assertThat(serverC.getParentSpanContext().isRemote()).isTrue();
        for (SpanData sd : List.of(clientA, serverB, clientB, serverC)) {
            assertThat(sd.getName()).isEqualTo(RELAY);
            assertThat(sd.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
            assertThat(sd.getAttributes().get(OpenTelemetryPropagation.RPC_SYSTEM_KEY)).isEqualTo("jcircuit");
            assertThat(sd.getAttributes().get(OpenTelemetryPropagation.RPC_METHOD)).isEqualTo(RELAY);
        }
        assertThat(clientA.getAttributes().get(OpenTelemetryPropagation.PEER)).isEqualTo(b.id().toString());
        assertThat(serverB.getAttributes().get(OpenTelemetryPropagation.PEER)).isEqualTo(a.id().toString());
        assertThat(clientB.getAttributes().get(OpenTelemetryPropagation.PEER)).isEqualTo(c.id().toString());
        assertThat(clientA.getAttributes().get(OpenTelemetryPropagation.BYTES_SENT)).isPositive();
        assertThat(clientA.getAttributes().get(OpenTelemetryPropagation.OUTCOME)).isEqualTo("OK");
        // each span ends after the one it contains
        assertThat(clientA.getEndEpochNanos()).isGreaterThanOrEqualTo(serverB.getEndEpochNanos());
        assertThat(serverB.getEndEpochNanos()).isGreaterThanOrEqualTo(clientB.getEndEpochNanos());
        assertThat(clientB.getEndEpochNanos()).isGreaterThanOrEqualTo(serverC.getEndEpochNanos());
    }

    @Test
    void shouldEndBothSpansWithErrorWhenTheRemoteMethodThrows() {
        OpenTelemetrySdk otelA = sdk("A");
        CircuitRuntime a = traced(otelA);
        CircuitRuntime b = traced(sdk("B"));
        b.listen("greeter", Greeter.class, new GreeterImpl(null));
        Greeter toB = a.dial(b.address(), "greeter", Greeter.class);
        exporter.reset();

        Span root = otelA.getTracer("test").spanBuilder("request").startSpan();
        try (Scope s = root.makeCurrent()) {
            assertThatThrownBy(() -> toB.fail("boom")).isInstanceOf(IllegalStateException.class);
        } finally {
            root.end();
        }

        List<SpanData> spans = exporter.getFinishedSpanItems();
        assertThat(spans).hasSize(3);
        SpanData client = span(spans, "A", SpanKind.CLIENT);
        SpanData server = span(spans, "B", SpanKind.SERVER);
        assertThat(server.getParentSpanId()).isEqualTo(client.getSpanId());
        assertThat(client.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(client.getAttributes().get(OpenTelemetryPropagation.OUTCOME)).isEqualTo("THREW");
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(server.getEvents()).anySatisfy(ev -> {
            assertThat(ev.getName()).isEqualTo("exception");
            assertThat(ev.getAttributes().get(AttributeKey.stringKey("exception.message"))).isEqualTo("boom");
        });
    }

    @Test
    void shouldEndAndExportTheClientSpanOfAnAsyncCallWhenItCompletesOnAnotherThread() {
        OpenTelemetrySdk otelA = sdk("A");
        CircuitRuntime a = traced(otelA);
        CircuitRuntime b = traced(sdk("B"));
        CountingInterceptor called = new CountingInterceptor();
        a.intercept(called); // after the tracing interceptor: sees a call once that has ended its span
        b.listen("async", AsyncGreeter.class, new AsyncGreeterImpl());
        AsyncGreeter toB = a.dial(b.address(), "async", AsyncGreeter.class);
        exporter.reset();

        Span root = otelA.getTracer("test").spanBuilder("request").startSpan();
        try (Scope s = root.makeCurrent()) {
            assertThat(toB.greetLater("ann", 10).join()).isEqualTo("hello ann");
        } finally {
            root.end();
        }

        // completed runs on the runtime's completer thread, after the future has been completed
        await().atMost(Duration.ofSeconds(10)).until(() -> called.count(Direction.OUT, LATER) == 1);
        List<SpanData> spans = exporter.getFinishedSpanItems();
        SpanData client = span(spans, "A", SpanKind.CLIENT);
        SpanData server = span(spans, "B", SpanKind.SERVER);
        assertThat(client.getName()).isEqualTo(LATER);
        assertThat(client.getParentSpanId()).isEqualTo(root.getSpanContext().getSpanId());
        assertThat(client.getAttributes().get(OpenTelemetryPropagation.OUTCOME)).isEqualTo("OK");
        assertThat(server.getParentSpanId()).isEqualTo(client.getSpanId());
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
        // the server span lasts until the future completed, not only until the method returned it
        assertThat(server.getEndEpochNanos() - server.getStartEpochNanos()).isGreaterThanOrEqualTo(10_000_000L);
    }

    @Test
    void shouldEndTheServerSpanOfAnAsyncMethodWhoseFutureFailsWithErrorAndTheException() {
        OpenTelemetrySdk otelA = sdk("A");
        CircuitRuntime a = traced(otelA);
        CircuitRuntime b = traced(sdk("B"));
        CountingInterceptor called = new CountingInterceptor();
        a.intercept(called);
        b.listen("async", AsyncGreeter.class, new AsyncGreeterImpl());
        AsyncGreeter toB = a.dial(b.address(), "async", AsyncGreeter.class);
        exporter.reset();

        assertThatThrownBy(() -> toB.failLater("boom").join()).hasCauseInstanceOf(IllegalStateException.class);

        // the server span ends where the future failed, which may be after the caller has heard of it
        await().atMost(Duration.ofSeconds(10)).until(() -> exporter.getFinishedSpanItems().stream()
            .anyMatch(sd -> sd.getKind() == SpanKind.SERVER));
        SpanData server = span(exporter.getFinishedSpanItems(), "B", SpanKind.SERVER);
        assertThat(server.getName()).isEqualTo(FAIL_LATER);
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(server.getEvents()).anySatisfy(ev -> {
            assertThat(ev.getName()).isEqualTo("exception");
            assertThat(ev.getAttributes().get(AttributeKey.stringKey("exception.type")))
                .isEqualTo(IllegalStateException.class.getName());
            assertThat(ev.getAttributes().get(AttributeKey.stringKey("exception.message"))).isEqualTo("boom");
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> called.count(Direction.OUT, FAIL_LATER) == 1);
        SpanData client = span(exporter.getFinishedSpanItems(), "A", SpanKind.CLIENT);
        assertThat(client.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(client.getAttributes().get(OpenTelemetryPropagation.OUTCOME)).isEqualTo("THREW");
    }

    @Test
    void shouldEndTheClientSpanOfALookupThatFindsNothingUnderTheNameItLookedUp() {
        CircuitRuntime a = traced(sdk("A"));
        CircuitRuntime b = runtimes.start();
        List<String> outgoing = new java.util.concurrent.CopyOnWriteArrayList<>();
        a.intercept(new io.jcircuit.CallInterceptor() {
            @Override
            public void outgoing(CallInfo call, java.util.Map<String, String> context) {
                outgoing.add(call.method());
            }
        });
        CountingInterceptor called = new CountingInterceptor();
        a.intercept(called);

        assertThat(a.worker(b.address()).tryDial("nope", Greeter.class)).isEmpty();

        assertThat(outgoing).containsExactly("dial nope");
        assertThat(called.events).extracting(io.jcircuit.CallEvent::method).containsExactly("dial nope");
        SpanData lookup = span(exporter.getFinishedSpanItems(), "A", SpanKind.CLIENT);
        assertThat(lookup.getName()).isEqualTo("dial nope");
        assertThat(lookup.getAttributes().get(OpenTelemetryPropagation.OUTCOME)).isEqualTo("OK");
        // the metrics still count every name that is not there under one: each name counted costs a histogram
        assertThat(a.callMetrics().snapshot()).extracting(io.jcircuit.runtime.ops.CallStats::method)
            .contains("dial (no such service)").doesNotContain("dial nope");
    }

    @Test
    void shouldMakeTheCallersSpanAndBaggageCurrentOnTheCalleeWithoutSpansOfItsOwn() {
        OpenTelemetrySdk otelA = sdk("A");
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        a.intercept(new OpenTelemetryPropagation(otelA));
        b.intercept(new OpenTelemetryPropagation(sdk("B")));
        b.listen("greeter", Greeter.class, new ContextEcho());
        Greeter toB = a.dial(b.address(), "greeter", Greeter.class);

        Span root = otelA.getTracer("test").spanBuilder("request").startSpan();
        String seen;
        String baggage;
        try (Scope s = Context.current().with(root).with(Baggage.builder().put("user", "ann").build()).makeCurrent()) {
            seen = toB.greet("x");
            baggage = toB.relay("user");
        } finally {
            root.end();
        }
        String outside = toB.greet("y");

        SpanContext sc = root.getSpanContext();
        assertThat(seen).isEqualTo(sc.getTraceId() + "/" + sc.getSpanId());
        assertThat(baggage).isEqualTo("ann");
        assertThat(outside).isEqualTo(SpanContext.getInvalid().getTraceId() + "/" + SpanContext.getInvalid().getSpanId());
        assertThat(exporter.getFinishedSpanItems()).extracting(SpanData::getName).containsExactly("request");
    }

    private OpenTelemetrySdk sdk(String service) {
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(SERVICE, service))))
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .build())
            .setPropagators(ContextPropagators.create(TextMapPropagator.composite(
                W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())))
            .build();
        sdks.add(sdk);
        return sdk;
    }

    private CircuitRuntime traced(OpenTelemetry otel) {
        CircuitRuntime rt = runtimes.start();
        rt.intercept(new OpenTelemetryPropagation(otel, otel.getTracer("io.jcircuit")));
        return rt;
    }

    private static SpanData span(List<SpanData> spans, String service, SpanKind kind) {
        List<SpanData> found = spans.stream()
            .filter(s -> service.equals(s.getResource().getAttribute(SERVICE)) && s.getKind() == kind)
            .toList();
        assertThat(found).as("%s span of %s among %s", kind, service, spans).hasSize(1);
        return found.getFirst();
    }

    /** Tells what OpenTelemetry context the call runs in. */
    static final class ContextEcho extends GreeterImpl {

        ContextEcho() {
            super(null);
        }

        /** The current trace and span id. */
        @Override
        public String greet(String name) {
            SpanContext sc = Span.current().getSpanContext();
            return sc.getTraceId() + "/" + sc.getSpanId();
        }

        /** The current baggage's entry {@code name}. */
        @Override
        public String relay(String name) {
            return Baggage.current().getEntryValue(name);
        }
    }
}
