package io.jcircuit.observe;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.ops.CallMetrics;
import io.jcircuit.runtime.ops.CallStats;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A runtime's call metrics as Prometheus metrics, read from {@link CircuitRuntime#callMetrics()} at
 * every scrape (nothing is counted twice, and nothing is kept here):
 *
 * <pre>
 * circuit_calls_total{direction,peer,method,outcome}         calls; outcome ok, threw or failed
 * circuit_call_bytes_total{direction,peer,method,way}        payload bytes; way sent or received
 * circuit_call_latency_seconds{direction,peer,method,quantile} summary: 0.5, 0.9, 0.99, _count, _sum
 * circuit_call_latency_max_seconds{direction,peer,method}    the slowest call so far
 * circuit_runtime_info{worker,address}                       1
 * </pre>
 *
 * Label values are lower case: {@code direction} is {@code out} (this runtime called) or {@code in}
 * (it served). Latencies come from the runtime's HdrHistogram (microsecond resolution, two significant
 * digits); {@code _sum} is its mean times its count, so it carries the same precision. A peer's series
 * end when the runtime forgets the peer. A runtime started with call metrics off shows only its info.
 *
 * <p>{@link #serve} puts these and a few JVM gauges (memory, threads, classes, GC, CPU) on an HTTP
 * endpoint of their own; or register a {@code PrometheusMetrics} with a registry you already serve.
 *
 * <p><b>Threading.</b> {@link #collect()} may run on any thread, concurrently with calls; it copies the
 * runtime's counters without stopping them, so one scrape may see a call in {@code calls} but not yet
 * in its bytes.
 */
public final class PrometheusMetrics implements MultiCollector {

    private static final double MICROS_PER_SECOND = 1_000_000.0;

    private final CircuitRuntime runtime;

    /** Reads {@code runtime}'s metrics at each scrape; the runtime may be closed meanwhile. */
    public PrometheusMetrics(CircuitRuntime runtime) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
    }

    /**
     * Serves {@code runtime}'s call metrics and the JVM's gauges at {@code http://127.0.0.1:PORT/metrics}.
     *
     * @param port the port to bind on loopback, 0 for any free one ({@link Endpoint#port()} tells which)
     * @throws UncheckedIOException when the port cannot be bound
     */
    public static Endpoint serve(CircuitRuntime runtime, int port) {
        return serve(runtime, InetAddress.getLoopbackAddress(), port);
    }

    /**
     * Like {@link #serve(CircuitRuntime, int)} on {@code bindAddress}. The endpoint has no
     * authentication: bind beyond loopback only on a network you trust.
     */
    public static Endpoint serve(CircuitRuntime runtime, InetAddress bindAddress, int port) {
        Objects.requireNonNull(bindAddress, "bindAddress");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port=" + port + " is not 0 to 65535");
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new PrometheusMetrics(runtime));
        registry.register(new JvmCollector());
        try {
            HTTPServer server = HTTPServer.builder().inetAddress(bindAddress).port(port).registry(registry)
                .buildAndStart();
            return new Endpoint(server, bindAddress);
        } catch (IOException e) {
            throw new UncheckedIOException("could not serve metrics on " + bindAddress.getHostAddress() + ":" + port
                + ": " + e.getMessage(), e);
        }
    }

    @Override
    public MetricSnapshots collect() {
        InfoSnapshot info = InfoSnapshot.builder().name("circuit_runtime").help("This runtime: worker id and address")
            .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                .labels(Labels.of("worker", runtime.id().toString(), "address", runtime.address().toString()))
                .build())
            .build();
        CallMetrics metrics = runtime.callMetrics();
        if (metrics == null) {
            return MetricSnapshots.of(info);
        }
        List<CallStats> rows = metrics.snapshot();
        return MetricSnapshots.of(info, calls(rows), bytes(rows), latency(rows), latencyMax(rows));
    }

    private static CounterSnapshot calls(List<CallStats> rows) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("circuit_calls")
            .help("Calls that crossed runtimes, by how they ended");
        for (CallStats r : rows) {
            // CallMetrics counts each outcome apart and gives their sum as calls: ok only grows
            long ok = r.calls() - r.threw() - r.failed();
            b.dataPoint(counter(r, "outcome", "ok", ok));
            b.dataPoint(counter(r, "outcome", "threw", r.threw()));
            b.dataPoint(counter(r, "outcome", "failed", r.failed()));
        }
        return b.build();
    }

    private static CounterSnapshot bytes(List<CallStats> rows) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("circuit_call_bytes")
            .help("Payload bytes of calls that crossed runtimes: requests and answers");
        for (CallStats r : rows) {
            b.dataPoint(counter(r, "way", "sent", r.bytesOut()));
            b.dataPoint(counter(r, "way", "received", r.bytesIn()));
        }
        return b.build();
    }

    private static SummarySnapshot latency(List<CallStats> rows) {
        SummarySnapshot.Builder b = SummarySnapshot.builder().name("circuit_call_latency_seconds")
            .help("Call latency: caller from encoding to decoding, callee from decoding to encoding");
        for (CallStats r : rows) {
            b.dataPoint(SummaryDataPointSnapshot.builder()
                .labels(labels(r))
                .count(r.latencyCount())
                .sum(r.meanMicros() * r.latencyCount() / MICROS_PER_SECOND)
                .quantiles(Quantiles.of(
                    new Quantile(0.5, r.p50Micros() / MICROS_PER_SECOND),
                    new Quantile(0.9, r.p90Micros() / MICROS_PER_SECOND),
                    new Quantile(0.99, r.p99Micros() / MICROS_PER_SECOND)))
                .build());
        }
        return b.build();
    }

    private static GaugeSnapshot latencyMax(List<CallStats> rows) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name("circuit_call_latency_max_seconds")
            .help("The slowest call so far");
        for (CallStats r : rows) {
            b.dataPoint(GaugeDataPointSnapshot.builder().labels(labels(r)).value(r.maxMicros() / MICROS_PER_SECOND)
                .build());
        }
        return b.build();
    }

    private static CounterDataPointSnapshot counter(CallStats r, String label, String value, long count) {
        return CounterDataPointSnapshot.builder().labels(labels(r).add(label, value)).value(count).build();
    }

    private static Labels labels(CallStats r) {
        return Labels.of("direction", r.direction().toLowerCase(Locale.ROOT), "peer", r.peer(), "method", r.method());
    }

    /**
     * A running metrics endpoint. {@link #close()} stops it and is idempotent; the runtime it reads
     * is not closed with it.
     */
    public static final class Endpoint implements AutoCloseable {

        private final HTTPServer server;
        private final InetAddress bindAddress;

        private Endpoint(HTTPServer server, InetAddress bindAddress) {
            this.server = server;
            this.bindAddress = bindAddress;
        }

        /** The port it listens on: the one asked for, or the one picked for port 0. */
        public int port() {
            return server.getPort();
        }

        /** Where to scrape it, e.g. {@code http://127.0.0.1:9464/metrics}. */
        public java.net.URI uri() {
            String host = bindAddress.getHostAddress();
            if (host.contains(":")) {
                host = "[" + host + "]";
            }
            return java.net.URI.create("http://" + host + ":" + port() + "/metrics");
        }

        @Override
        public void close() {
            server.close();
        }

        @Override
        public String toString() {
            return "metrics endpoint " + uri();
        }
    }
}
