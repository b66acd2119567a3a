package io.jcircuit.cli.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jcircuit.Circuit;
import io.jcircuit.anchor.Namespace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web console: a small HTTP server that shows the live circuit as a graph and lets an operator
 * take a thread dump or a flame graph of any worker.
 *
 * <pre>
 * GET /                              the page (HTML, CSS and JS from this jar; nothing external)
 * GET /api/circuit                   the latest {@link CircuitPicture} as JSON, re-sampled at most every interval
 * GET /api/worker/ID/info            the worker's {@code Ops.info()} as JSON
 * GET /api/worker/ID/stack           its thread dump, as text
 * GET /api/worker/ID/flame?kind=cpu&amp;seconds=5   a flame graph, as HTML (kind cpu|alloc|lock, 1 to 60 s)
 * </pre>
 * Failures are JSON {@code {"error": ..., "status": ...}}: 400 for bad parameters, 404 for an unknown
 * worker or path, 5xx when the worker fails.
 *
 * <p>It is the JDK's {@code com.sun.net.httpserver}: no dependency to add, and enough for a local
 * operator console that serves a handful of requests per second. Each request runs on its own
 * virtual thread, so a flame graph that takes a minute holds up nothing else, and a request that
 * fails is answered with its error while the server carries on.
 *
 * <p><b>Security:</b> whoever reaches the port can profile and dump every worker. It binds loopback by
 * default, and refuses requests whose {@code Host} header names another machine than the one bound
 * (a defence against DNS rebinding from a web page the operator visits).
 *
 * <p>Lifecycle: {@link #start} binds and serves; {@link #close} stops serving. It owns neither the
 * namespace nor the client runtime.
 */
public final class ConsoleServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServer.class);
    private static final Pattern WORKER_PATH = Pattern.compile("/api/worker/([^/]+)/(info|stack|flame)");

    /**
     * How the console runs.
     *
     * @param bindHost    the address to listen on; loopback unless the operator asks otherwise
     * @param port        the port, 0 for any free one
     * @param intervalMs  the page's refresh interval, and the shortest time between two samples
     * @param pollTimeout the time each worker has to answer a sample
     */
    public record Config(String bindHost, int port, long intervalMs, Duration pollTimeout) {

        public static final String DEFAULT_BIND = "127.0.0.1";
        public static final int DEFAULT_PORT = 7766;
        public static final long DEFAULT_INTERVAL_MS = 2_000;

        public Config {
            Objects.requireNonNull(bindHost, "bindHost");
            Objects.requireNonNull(pollTimeout, "pollTimeout");
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port=" + port + " is not 0 to 65535");
            }
            if (intervalMs < 200) {
                throw new IllegalArgumentException("--interval-ms " + intervalMs + " is below 200: the console would do little but sample");
            }
        }

        /** Loopback, port {@code port}, every 2 s, 2 s for each worker to answer. */
        public static Config onPort(int port) {
            return new Config(DEFAULT_BIND, port, DEFAULT_INTERVAL_MS, CircuitSampler.DEFAULT_POLL_TIMEOUT);
        }
    }

    /** The latest picture and when it was taken, in {@link System#nanoTime()}. */
    private record Latest(CircuitPicture picture, long takenNanos) {
    }

    private final Config config;
    private final HttpServer server;
    private final ExecutorService threads;
    private final CircuitSampler sampler;
    private final WorkerEndpoints workers;
    private final Function<Object, String> json;
    /** One sample at a time: requests that arrive while one is taken wait for it instead of taking their own. */
    private final ReentrantLock sampling = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Latest latest;

    private ConsoleServer(Config config, Namespace namespace, Circuit client, Function<Object, String> json,
                          HttpServer server, ExecutorService threads) {
        this.config = config;
        this.server = server;
        this.threads = threads;
        this.json = json;
        this.sampler = new CircuitSampler(namespace, client, config.pollTimeout());
        this.workers = new WorkerEndpoints(namespace, client);
    }

    /**
     * Binds {@code config.bindHost():config.port()} and starts serving.
     *
     * @param json the JSON writer for maps, lists, strings, numbers, booleans and null
     * @throws UncheckedIOException when the address cannot be bound; the message names it
     */
    public static ConsoleServer start(Config config, Namespace namespace, Circuit client, Function<Object, String> json) {
        InetSocketAddress at = new InetSocketAddress(config.bindHost(), config.port());
        HttpServer server;
        try {
            server = HttpServer.create(at, 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + config.bindHost() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        ExecutorService threads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("circuit-console-", 0).factory());
        ConsoleServer console = new ConsoleServer(config, namespace, client, Objects.requireNonNull(json, "json"), server, threads);
        server.setExecutor(threads);
        server.createContext("/", console::handle);
        server.start();
        return console;
    }

    /** The address the console listens on, with the port chosen when 0 was asked. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** The page's URL. */
    public URI uri() {
        InetSocketAddress a = address();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
    }

    /** The latest picture, taken now if the last one is older than the interval. */
    public CircuitPicture picture() {
        Latest l = latest;
        if (fresh(l)) {
            return l.picture();
        }
        sampling.lock();
        try {
            l = latest;
            if (!fresh(l)) {
                l = new Latest(sampler.sample(), System.nanoTime());
                latest = l;
            }
            return l.picture();
        } finally {
            sampling.unlock();
        }
    }

    private boolean fresh(Latest l) {
        return l != null && System.nanoTime() - l.takenNanos() < config.intervalMs() * 1_000_000L;
    }

    private void handle(HttpExchange x) {
        try (x) {
            try {
                route(x);
            } catch (RuntimeException e) {
                HttpFailure f = HttpFailure.of(e);
                if (f.status() >= 500) {
                    LOG.warn("console: {} {} failed: {}", x.getRequestMethod(), x.getRequestURI(), f.getMessage());
                }
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("error", f.getMessage());
                body.put("status", f.status());
                Replies.send(x, f.status(), "application/json", json.apply(body).getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("console: cannot answer {}: {}", x.getRequestURI(), e.toString()); // the browser went away
        }
    }

    private void route(HttpExchange x) throws IOException {
        if (!x.getRequestMethod().equals("GET") && !x.getRequestMethod().equals("HEAD")) {
            throw new HttpFailure(405, "method " + x.getRequestMethod() + " not allowed: the console only answers GET");
        }
        Replies.checkHost(x, server.getAddress());
        String path = x.getRequestURI().getPath();
        if (path.equals("/api/circuit")) {
            Replies.send(x, 200, "application/json",
                json.apply(PictureJson.of(picture(), config.intervalMs())).getBytes(StandardCharsets.UTF_8));
            return;
        }
        Matcher m = WORKER_PATH.matcher(path);
        if (m.matches()) {
            Map<String, String> query = Replies.query(x.getRequestURI());
            switch (m.group(2)) {
                case "info" -> Replies.send(x, 200, "application/json",
                    json.apply(PictureJson.info(workers.info(m.group(1)))).getBytes(StandardCharsets.UTF_8));
                case "stack" -> Replies.send(x, 200, "text/plain; charset=utf-8",
                    workers.stack(m.group(1)).getBytes(StandardCharsets.UTF_8));
                default -> Replies.send(x, 200, "text/html; charset=utf-8",
                    workers.flame(m.group(1), query.get("kind"), query.get("seconds")));
            }
            return;
        }
        StaticPages.serve(x, path);
    }

    /** Stops listening and ends the requests still running. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.stop(0);
            threads.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "ConsoleServer[" + uri() + "]";
    }
}
