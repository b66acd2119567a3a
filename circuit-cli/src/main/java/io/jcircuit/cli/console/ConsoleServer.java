package io.jcircuit.cli.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.runtime.host.HostService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
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
 * GET /api/worker/ID/last-flame      the last flame graph taken of it here, as HTML
 * </pre>
 * Failures are JSON {@code {"error": ..., "status": ...}}: 400 for bad parameters, 403 for a request
 * from another site, 404 for an unknown worker or path, 503 when the circuit cannot be read in time, 5xx
 * when the worker fails. A request target that is no valid URI ({@code ?kind=%zz}) never reaches the console:
 * the JDK's server parses it before any handler or filter runs and answers 400 with its own HTML page.
 *
 * <p>It is the JDK's {@code com.sun.net.httpserver}: no dependency to add, and enough for a local
 * operator console that serves a handful of requests per second. Each request runs on its own
 * virtual thread, so a flame graph that takes a minute holds up nothing else, and a request that
 * fails is answered with its error while the server carries on.
 *
 * <p><b>Security:</b> whoever reaches the port can profile and dump every worker. It binds loopback by
 * default, refuses requests whose {@code Host} header names another machine than the one bound (a
 * defence against DNS rebinding from a web page the operator visits), and refuses API requests that a
 * page of another site (another port on this machine too) made the browser send: they could start
 * profiles. Flame graphs are served sandboxed.
 *
 * <p>Lifecycle: {@link #start} binds and serves; {@link #close} stops serving. It owns neither the
 * namespace nor the client runtime.
 */
public final class ConsoleServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServer.class);
    private static final Pattern WORKER_PATH = Pattern.compile("/api/worker/([^/]+)/(info|stack|flame|last-flame)");
    /**
     * What a flame graph's page may do: run its own script, in an origin of its own (no
     * {@code allow-same-origin}), so that it cannot reach the console's API, also when opened in a tab.
     */
    private static final String FLAME_POLICY = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
        + "style-src 'unsafe-inline'; img-src data:";
    /**
     * How long a request waits for a read of the namespace: a worker's lookup, and a picture beyond the
     * time the workers have to answer. Curator gives up on an unreachable ZooKeeper only after 10 to 20 s.
     */
    private static final long NAMESPACE_READ_NANOS = 3_000_000_000L;

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
                throw new IllegalArgumentException("console port " + port + " is not 0 to 65535");
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
    /** Set from the first 503 until a read succeeds: an outage is logged once, not at every request. */
    private final AtomicBoolean unreadable = new AtomicBoolean();
    private final Namespace namespace;
    /** This machine's names, which a console bound to every interface answers to; empty otherwise. */
    private final java.util.Set<String> machineNames;
    private volatile Latest latest;
    /** The picture being taken, if one is; guarded by {@link #sampling}. */
    private java.util.concurrent.CompletableFuture<Latest> inFlight;

    private ConsoleServer(Config config, Namespace namespace, Circuit client, Function<Object, String> json,
                          HttpServer server, ExecutorService threads) {
        this.config = config;
        this.server = server;
        this.threads = threads;
        this.json = json;
        this.namespace = namespace;
        this.machineNames = server.getAddress().getAddress().isAnyLocalAddress() ? Replies.machineNames() : java.util.Set.of();
        this.sampler = new CircuitSampler(namespace, client, config.pollTimeout());
        this.workers = new WorkerEndpoints(this::liveWorkers, client);
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
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1"
            : a.getAddress() instanceof java.net.Inet6Address && a.getAddress().isLoopbackAddress() ? "::1"
            : a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
    }

    /**
     * The latest picture, taken now if the last one is older than the interval. One picture is taken at a
     * time; a request waits for it no longer than the workers have to answer, plus a few seconds.
     *
     * @throws HttpFailure 503 when no picture came in that time (ZooKeeper may be unreachable)
     */
    public CircuitPicture picture() {
        Latest l = latest;
        if (fresh(l)) {
            return l.picture();
        }
        java.util.concurrent.CompletableFuture<Latest> taking;
        sampling.lock();
        try {
            if (fresh(latest)) {
                return latest.picture();
            }
            if (inFlight == null || inFlight.isDone()) {
                inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    Latest taken = new Latest(sampler.sample(), System.nanoTime());
                    latest = taken;
                    return taken;
                }, threads);
            }
            taking = inFlight;
        } finally {
            sampling.unlock();
        }
        return awaitRead(taking, config.pollTimeout().toNanos() + NAMESPACE_READ_NANOS).picture();
    }

    /**
     * The entries under {@code /worker}, read now, within {@link #NAMESPACE_READ_NANOS}: a worker spawned a
     * moment ago is found. While the connection to ZooKeeper is down, fails at once.
     *
     * @throws HttpFailure 503 when ZooKeeper is away or the read did not come in time
     */
    private List<Entry> liveWorkers() {
        return entries("/worker", false);
    }

    /** The host daemon that runs worker {@code id} (as the picture names it), or null when no host started it. */
    private String daemonOf(String id) {
        return HostService.daemonsOf(entries(HostService.DIR, true)).get(WorkerId.parse(id));
    }

    /** The entries under {@code dir}, read within the console's bound; a 503 when they cannot be. */
    private List<Entry> entries(String dir, boolean recursive) {
        if (!namespace.isConnected()) {
            throw new HttpFailure(503, "the circuit cannot be read: ZooKeeper at " + namespace.config().connectString()
                + " is unreachable");
        }
        java.util.concurrent.Future<List<Entry>> listing = threads.submit(() -> namespace.listAnchors(dir, recursive).entries());
        try {
            return awaitRead(listing, NAMESPACE_READ_NANOS);
        } finally {
            listing.cancel(true); // past its time: the interrupt ends Curator's retries rather than leave a thread in them
        }
    }

    /**
     * What {@code reading} read, waited for at most {@code waitNanos}.
     *
     * @throws HttpFailure 503 when it did not come in that time or ZooKeeper could not be read
     */
    private <T> T awaitRead(java.util.concurrent.Future<T> reading, long waitNanos) {
        T read;
        try {
            read = reading.get(waitNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new HttpFailure(503, "the circuit could not be read within " + waitNanos / 1_000_000_000L
                + " s: is ZooKeeper reachable?");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof io.jcircuit.anchor.NamespaceException away) {
                throw new HttpFailure(503, "the circuit cannot be read: " + away.getMessage());
            }
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HttpFailure(503, "interrupted while the circuit was read");
        }
        if (unreadable.compareAndSet(true, false)) {
            LOG.info("console: the circuit can be read again");
        }
        return read;
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
                if (f.status() == 503) {
                    unreadable(x, f);
                } else if (f.status() >= 500) {
                    LOG.warn("console: {} {} failed: {}", x.getRequestMethod(), x.getRequestURI(), f.getMessage());
                }
                if (f.status() == 405) {
                    x.getResponseHeaders().set("Allow", "GET");
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

    /** Logs the first 503 of an outage as a warning; the page polls, and the rest would say the same. */
    private void unreadable(HttpExchange x, HttpFailure f) {
        if (unreadable.compareAndSet(false, true)) {
            LOG.warn("console: {} {} failed: {}; answering 503 until the circuit can be read", x.getRequestMethod(),
                x.getRequestURI(), f.getMessage());
        } else {
            LOG.debug("console: {} {} failed: {}", x.getRequestMethod(), x.getRequestURI(), f.getMessage());
        }
    }

    private void route(HttpExchange x) throws IOException {
        if (!x.getRequestMethod().equals("GET") && !x.getRequestMethod().equals("HEAD")) {
            throw new HttpFailure(405, "method " + x.getRequestMethod() + " not allowed: the console only answers GET");
        }
        Replies.checkHost(x, server.getAddress(), machineNames);
        String path = x.getRequestURI().getPath();
        if (path.startsWith("/api/")) {
            Replies.checkSameOrigin(x);
            if (x.getRequestMethod().equals("HEAD")) {
                // a HEAD would run a profile or a dump only to throw it away
                throw new HttpFailure(405, "method HEAD not allowed on " + path + ": use GET");
            }
        }
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
                    json.apply(PictureJson.info(workers.info(m.group(1)), daemonOf(m.group(1)))).getBytes(StandardCharsets.UTF_8));
                case "stack" -> Replies.send(x, 200, "text/plain; charset=utf-8",
                    workers.stack(m.group(1)).getBytes(StandardCharsets.UTF_8));
                case "flame" -> sendFlame(x, workers.flame(m.group(1), query.get("kind"), query.get("seconds")));
                default -> sendFlame(x, workers.lastFlame(m.group(1)));
            }
            return;
        }
        if (path.equals("/favicon.ico")) {
            Replies.send(x, 204, "image/x-icon", new byte[0]); // none: said at once, so that browsers stop asking
            return;
        }
        StaticPages.serve(x, path);
    }

    private static void sendFlame(HttpExchange x, byte[] html) throws IOException {
        x.getResponseHeaders().set("Content-Security-Policy", FLAME_POLICY);
        Replies.send(x, 200, "text/html; charset=utf-8", html);
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
