package io.jcircuit.examples.sumr;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Go Circuit's sumr in Java: a sharded store of sums. Shards are workers filed under
 * {@code /sumr/shard/<i>}, keys partitioned by hash; each shard logs every add to a write-ahead log
 * before it answers, so a shard spawned again replays it. API workers serve {@code POST /add}
 * ({@code {"key":"k","value":1.5}}) and {@code GET /sum?key=k} over HTTP with JSON.
 * {@link #replenish} spawns the shards that are missing, and only those.
 */
public final class Sumr {

    public static final String SHARDS = "/sumr/shard";
    static final String SERVICE = "sumr.shard";

    /** One shard, dialed through the namespace. */
    public interface Shard {
        /** Adds {@code value} to {@code key}'s sum once the log has it; returns the new sum. */
        double add(String key, double value);

        double sum(String key);
    }

    private Sumr() {
    }

    /** Spawns each of the {@code n} shards that has no live worker; returns how many it spawned. */
    public static int replenish(Circuit circuit, int n, Path logDir) {
        int spawned = 0;
        for (int i = 0; i < n; i++) {
            if (circuit.anchors().list(SHARDS + "/" + i).entries().isEmpty()) {
                String log = logDir.resolve("shard-" + i + ".log").toString();
                circuit.spawn(Circuit.ANY_HOST, List.of(SHARDS + "/" + i), () -> startShard(log),
                    SpawnOptions.defaults().daemonized());
                spawned++;
            }
        }
        return spawned;
    }

    /** Runs in a shard worker: replays its log, then serves. Returns its log's path. */
    static String startShard(String logFile) throws IOException {
        Path log = Path.of(logFile);
        Map<String, Double> sums = new ConcurrentHashMap<>();
        if (Files.exists(log)) {
            for (String line : Files.readAllLines(log)) { // "key<TAB>value" per add
                int tab = line.lastIndexOf('\t');
                if (tab > 0) {
                    sums.merge(line.substring(0, tab), Double.parseDouble(line.substring(tab + 1)), Double::sum);
                }
            }
        }
        var out = java.nio.channels.FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
            StandardOpenOption.WRITE);
        Circuit.current().listen(SERVICE, Shard.class, new Shard() {
            @Override
            public synchronized double add(String key, double value) {
                try {
                    out.write(java.nio.ByteBuffer.wrap((key + "\t" + value + "\n").getBytes(StandardCharsets.UTF_8)));
                    out.force(false); // on disk before the answer: an acknowledged add survives the shard
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return sums.merge(key, value, Double::sum);
            }

            @Override
            public double sum(String key) {
                return sums.getOrDefault(key, 0.0);
            }
        });
        return logFile;
    }

    /** Starts an API worker serving HTTP on {@code port} (0: any); returns the port. */
    public static int startApi(Circuit circuit, int shards) {
        return circuit.spawn(Circuit.ANY_HOST, List.of("/sumr/api"), () -> serveHttp(shards),
            SpawnOptions.defaults().daemonized()).result();
    }

    /** Runs in an API worker. */
    static int serveHttp(int shards) throws IOException {
        Circuit here = Circuit.current();
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        http.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/add", ex -> {
            Matcher m = ADD.matcher(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            if (!"POST".equals(ex.getRequestMethod()) || !m.matches()) {
                reply(ex, 400, "{\"error\":\"POST /add with {\\\"key\\\":\\\"k\\\",\\\"value\\\":1.5}\"}");
                return;
            }
            serve(ex, () -> "{\"sum\":" + shardOf(here, m.group(1), shards).add(m.group(1), Double.parseDouble(m.group(2))) + "}");
        });
        http.createContext("/sum", ex -> {
            String q = ex.getRequestURI().getRawQuery();
            if (q == null || !q.startsWith("key=")) {
                reply(ex, 400, "{\"error\":\"GET /sum?key=k\"}");
                return;
            }
            String key = URLDecoder.decode(q.substring(4), StandardCharsets.UTF_8);
            serve(ex, () -> "{\"sum\":" + shardOf(here, key, shards).sum(key) + "}");
        });
        http.start();
        return http.getAddress().getPort();
    }

    private static final Pattern ADD = Pattern.compile("\\s*\\{\\s*\"key\"\\s*:\\s*\"([^\"]*)\"\\s*,\\s*\"value\"\\s*:\\s*(-?[0-9.eE+-]+)\\s*}\\s*");

    /** The shard that owns {@code key}, found in the namespace. */
    static Shard shardOf(Circuit c, String key, int shards) {
        List<Entry> live = c.anchors().list(SHARDS + "/" + Math.floorMod(key.hashCode(), shards)).entries();
        if (live.isEmpty()) {
            throw new IllegalStateException("shard " + Math.floorMod(key.hashCode(), shards) + " is down; replenish it");
        }
        return c.anchors().worker(live.getFirst()).dial(SERVICE, Shard.class);
    }

    private static void serve(HttpExchange ex, java.util.concurrent.Callable<String> body) throws IOException {
        try {
            reply(ex, 200, body.call());
        } catch (Exception e) {
            reply(ex, 503, "{\"error\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}");
        }
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (var out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
