package io.jcircuit.examples.sumr;

import io.jcircuit.Entry;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** sumr on a local circuit: sums over HTTP, and a killed shard that loses no acknowledged add. */
@Tag("slow")
class SumrTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(int port, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/add"))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(int port, String key) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sum?key=" + key)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aKilledShardLosesNoAcknowledgedAdd(@TempDir Path logs) throws Exception {
        CircuitRuntime driver = circuit.newClient();
        assertThat(Sumr.replenish(driver, 2, logs)).isEqualTo(2);
        assertThat(Sumr.replenish(driver, 2, logs)).as("idempotent").isZero();
        int port = Sumr.startApi(driver, 2);

        Map<String, Double> expected = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            String key = "k" + (i % 7);
            HttpResponse<String> r = post(port, "{\"key\":\"" + key + "\",\"value\":" + (i + 0.5) + "}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200); // acknowledged
            expected.merge(key, i + 0.5, Double::sum);
        }
        assertThat(get(port, "k3").body()).isEqualTo("{\"sum\":" + expected.get("k3") + "}");

        Entry shard0 = driver.anchors().list(Sumr.SHARDS + "/0").entries().getFirst();
        driver.anchors().worker(shard0).kill();
        await().atMost(Duration.ofSeconds(10)).until(() -> driver.anchors().list(Sumr.SHARDS + "/0").isEmpty());
        String keyOnShard0 = expected.keySet().stream().filter(k -> Math.floorMod(k.hashCode(), 2) == 0).findFirst().orElseThrow();
        assertThat(get(port, keyOnShard0).statusCode()).isEqualTo(503);

        assertThat(Sumr.replenish(driver, 2, logs)).isEqualTo(1);
        for (var e : expected.entrySet()) {
            assertThat(get(port, e.getKey()).body()).as(e.getKey()).isEqualTo("{\"sum\":" + e.getValue() + "}");
        }
        assertThat(post(port, "not json").statusCode()).isEqualTo(400);
        assertThat(get(port, "").statusCode()).isEqualTo(200);
    }
}
