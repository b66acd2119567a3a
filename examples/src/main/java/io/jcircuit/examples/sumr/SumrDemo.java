package io.jcircuit.examples.sumr;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * sumr from the command line: {@code bin/circuit run --local examples/target/examples-0.1.0-SNAPSHOT.jar
 * io.jcircuit.examples.sumr.SumrDemo}. Spawns two shards and an API worker, adds over HTTP, kills a
 * shard, replenishes it, and shows that its sums came back from its log.
 */
public final class SumrDemo {

    private SumrDemo() {
    }

    public static void main(String[] args) throws Exception {
        Circuit circuit = Circuit.current();
        Path logs = Files.createTempDirectory("sumr-logs-");
        try {
            run(circuit, logs);
        } finally {
            // The shards are daemonized: end them before their logs go, so none writes into a removed file.
            for (String path : new String[] {Sumr.SHARDS + "/0", Sumr.SHARDS + "/1", "/sumr/api"}) {
                for (Entry e : circuit.anchors().list(path).entries()) {
                    circuit.anchors().worker(e).kill();
                }
            }
            try (var files = Files.walk(logs)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
            System.out.println("ended the shards and the API worker; removed " + logs);
        }
    }

    private static void run(Circuit circuit, Path logs) throws Exception {
        System.out.println("spawned " + Sumr.replenish(circuit, 2, logs) + " shards; logs in " + logs);
        int port = Sumr.startApi(circuit, 2);
        System.out.println("API worker serves http://127.0.0.1:" + port + "/add and /sum");
        HttpClient http = HttpClient.newHttpClient();
        for (String key : new String[] {"apples", "pears", "apples"}) {
            String body = "{\"key\":\"" + key + "\",\"value\":2.5}";
            System.out.println("POST /add " + body + " -> " + http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/add")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        }
        int shard = Math.floorMod("apples".hashCode(), 2);
        Entry e = circuit.anchors().list(Sumr.SHARDS + "/" + shard).entries().getFirst();
        circuit.anchors().worker(e).kill();
        System.out.println("killed shard " + shard + " (" + e.worker() + "); replenished "
            + Sumr.replenish(circuit, 2, logs) + " shard(s)");
        System.out.println("GET /sum?key=apples -> " + http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/sum?key=apples")).build(), HttpResponse.BodyHandlers.ofString()).body());
    }
}
