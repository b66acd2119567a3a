package io.jcircuit.observe;

import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.runtime.CircuitRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class PrometheusMetricsTest {

    private static final String GREET = "Greeter.greet(String)";
    private static final String FAIL = "Greeter.fail(String)";

    @RegisterExtension
    final Runtimes runtimes = new Runtimes();

    @Test
    void shouldServeCallCountsBytesAndLatenciesThatMatchTheCallsMade() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        CountingInterceptor served = new CountingInterceptor();
        b.intercept(served);
        b.listen("greeter", Greeter.class, new GreeterImpl(null));
        Greeter greeter = a.dial(b.address(), "greeter", Greeter.class);
        for (int i = 0; i < 5; i++) {
            greeter.greet("n" + i);
        }
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> greeter.fail("boom")).isInstanceOf(IllegalStateException.class);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> served.count(Direction.IN, FAIL) == 2);

        try (PrometheusMetrics.Endpoint ea = PrometheusMetrics.serve(a, 0);
             PrometheusMetrics.Endpoint eb = PrometheusMetrics.serve(b, 0)) {
            assertThat(ea.port()).isPositive();
            assertThat(ea.uri().toString()).isEqualTo("http://127.0.0.1:" + ea.port() + "/metrics");
            List<Sample> fromA = scrape(ea.uri());
            List<Sample> fromB = scrape(eb.uri());
            String bId = b.id().toString();
            String aId = a.id().toString();

            assertThat(value(fromA, "circuit_calls_total", "direction", "out", "peer", bId, "method", GREET,
                "outcome", "ok")).isEqualTo(5);
            assertThat(value(fromA, "circuit_calls_total", "direction", "out", "peer", bId, "method", GREET,
                "outcome", "threw")).isZero();
            assertThat(value(fromA, "circuit_calls_total", "direction", "out", "peer", bId, "method", FAIL,
                "outcome", "threw")).isEqualTo(2);
            assertThat(value(fromA, "circuit_calls_total", "direction", "out", "peer", bId, "method", "dial greeter",
                "outcome", "ok")).isEqualTo(1);
            assertThat(value(fromB, "circuit_calls_total", "direction", "in", "peer", aId, "method", GREET,
                "outcome", "ok")).isEqualTo(5);
            assertThat(value(fromB, "circuit_calls_total", "direction", "in", "peer", aId, "method", FAIL,
                "outcome", "threw")).isEqualTo(2);
            assertThat(value(fromB, "circuit_calls_total", "direction", "in", "peer", aId, "method", FAIL,
                "outcome", "failed")).isZero();

            double sent = value(fromA, "circuit_call_bytes_total", "direction", "out", "peer", bId, "method", GREET,
                "way", "sent");
            double received = value(fromB, "circuit_call_bytes_total", "direction", "in", "peer", aId,
                "method", GREET, "way", "received");
            assertThat(sent).isPositive();
            assertThat(received).isPositive().isLessThanOrEqualTo(sent);

            assertThat(value(fromA, "circuit_call_latency_seconds_count", "direction", "out", "peer", bId,
                "method", GREET)).isEqualTo(5);
            double p50 = value(fromA, "circuit_call_latency_seconds", "direction", "out", "peer", bId,
                "method", GREET, "quantile", "0.5");
            double p99 = value(fromA, "circuit_call_latency_seconds", "direction", "out", "peer", bId,
                "method", GREET, "quantile", "0.99");
            double max = value(fromA, "circuit_call_latency_max_seconds", "direction", "out", "peer", bId,
                "method", GREET);
            assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
            assertThat(p99).isLessThanOrEqualTo(max * 1.01); // both from one histogram, two significant digits
            assertThat(value(fromA, "circuit_call_latency_seconds_sum", "direction", "out", "peer", bId,
                "method", GREET)).isPositive();

            assertThat(value(fromA, "circuit_runtime_info", "worker", aId, "address", a.address().toString()))
                .isEqualTo(1);
            assertThat(value(fromA, "jvm_memory_used_bytes", "area", "heap")).isPositive();
            assertThat(value(fromA, "jvm_threads_current")).isPositive();
            assertThat(value(fromA, "process_cpu_seconds_total")).isPositive();
        }
    }

    @Test
    void shouldCountCallsMadeAfterTheEndpointStartedAtTheNextScrape() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("greeter", Greeter.class, new GreeterImpl(null));
        Greeter greeter = a.dial(b.address(), "greeter", Greeter.class);

        try (PrometheusMetrics.Endpoint ea = PrometheusMetrics.serve(a, 0)) {
            greeter.greet("x");
            String[] key = {"direction", "out", "peer", b.id().toString(), "method", GREET, "outcome", "ok"};
            assertThat(value(scrape(ea.uri()), "circuit_calls_total", key)).isEqualTo(1);
            greeter.greet("y");
            greeter.greet("z");
            assertThat(value(scrape(ea.uri()), "circuit_calls_total", key)).isEqualTo(3);
            assertThat(value(scrape(ea.uri()), "circuit_calls_total", key)).as("a scrape counts nothing").isEqualTo(3);
        }
    }

    @Test
    void shouldRefuseAPortInUseAndFreeItsOwnPortOnClose() throws Exception {
        CircuitRuntime a = runtimes.start();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> PrometheusMetrics.serve(a, taken.getLocalPort()))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("127.0.0.1:" + taken.getLocalPort());
        }
        PrometheusMetrics.Endpoint e = PrometheusMetrics.serve(a, 0);
        int port = e.port();
        e.close();
        e.close();
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
        assertThatThrownBy(() -> PrometheusMetrics.serve(a, 70_000)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("port=70000");
    }

    /** One line of the text format: name, labels and value. */
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    private static List<Sample> scrape(URI uri) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            List<Sample> samples = new ArrayList<>();
            for (String line : r.body().split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                Matcher m = LINE.matcher(line);
                assertThat(m.matches()).as("a sample line: %s", line).isTrue();
                Map<String, String> labels = new TreeMap<>();
                if (m.group(2) != null) {
                    Matcher l = LABEL.matcher(m.group(2));
                    while (l.find()) {
                        labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
                    }
                }
                samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
            }
            return samples;
        }
    }

    /** The value of the one sample with this name and exactly these labels. */
    private static double value(List<Sample> samples, String name, String... labels) {
        Map<String, String> want = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            want.put(labels[i], labels[i + 1]);
        }
        List<Sample> found = samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(want)).toList();
        assertThat(found).as("%s%s among %s", name, want, samples.stream().map(Sample::name).distinct().toList())
            .hasSize(1);
        return found.getFirst().value();
    }
}
