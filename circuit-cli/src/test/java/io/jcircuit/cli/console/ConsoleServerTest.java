package io.jcircuit.cli.console;

import io.jcircuit.Address;
import io.jcircuit.Circuit;
import io.jcircuit.Spawned;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceConfig;
import io.jcircuit.cli.ConsoleCommand;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.test.FaultProxy;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console against a real circuit: two hosts, a callee worker on host-2 and a caller worker on
 * host-1 that calls it in a loop, so there is a flow to see. The tests here check the HTTP API;
 * {@link InABrowser} drives the page in headless Chromium over the same circuit.
 */
@Tag("slow")
class ConsoleServerTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(2);

    static TwoWorkers workers;
    static Namespace namespace;
    static CircuitRuntime opsClient;
    static ConsoleServer console;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startConsole() {
        workers = TwoWorkers.spawn(circuit.newClient());
        namespace = Namespace.connect(NamespaceConfig.of(circuit.zookeeper()));
        opsClient = CircuitRuntime.start(RuntimeConfig.builder().build());
        console = ConsoleCommand.serve(new ConsoleServer.Config("127.0.0.1", 0, 300, Duration.ofSeconds(2)),
            namespace, opsClient, "--port");
    }

    @AfterAll
    static void stopConsole() {
        console.close();
        opsClient.close();
        namespace.close();
    }

    static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(console.uri().resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldShowBothWorkersTheirHostsAnchorsAndARatedFlowBetweenThem() {
        String flow = "{\"from\":\"" + workers.caller() + "\",\"to\":\"" + workers.callee() + "\",\"callsPerSec\":";
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> r = get("/api/circuit");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
            assertThat(r.body())
                .contains("\"name\":\"host-1\"", "\"name\":\"host-2\"")
                .contains("\"id\":\"" + workers.caller() + "\"", "\"id\":\"" + workers.callee() + "\"")
                .containsPattern("\"id\":\"" + workers.callee() + "\",\"address\":\"[^\"]+\",\"host\":\"host-2\"")
                .contains("\"/console/callee\":[\"" + workers.callee() + "\"]")
                .containsSubsequence("\"/console/callee\"", "\"/host/host-1\"", "\"/host/host-2\"") // sorted, as ls lists them
                .contains(flow)
                .doesNotContain(flow + "0.0,");  // rated, and not idle
        });
    }

    @Test
    void shouldShowTheJvmsAHostKeepsWarmInItsBoxAsWarm() {
        // each host started a warm JVM after its spawn; before, they showed as runtimes of no host daemon
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(get("/api/circuit").body())
            .containsPattern("\"host\":\"host-[12]\",\"machine\":\"[^\"]*\",\"pid\":\\d+,\"role\":\"standby\"")
            .containsPattern("\"name\":\"host-[12]\",[^}]*\"warm\":\\[\"R"));
    }

    @Test
    void shouldAnswerInfoOfALiveWorkerAsJson() throws Exception {
        HttpResponse<String> r = get("/api/worker/" + workers.callee() + "/info");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"worker\":\"" + workers.callee() + "\"", "\"/host/host-2\"", "\"/console/callee\"");
        // "host" is the host daemon, as in the picture (before: the machine's name)
        assertThat(r.body()).containsPattern("\"host\":\"host-2\",\"machine\":\"[^\"]+\"");
    }

    @Test
    void shouldAnswer404ForAWorkerThatIsNotLiveAnd400ForMalformedParameters() throws Exception {
        HttpResponse<String> unknown = get("/api/worker/R00000000000000a1/stack");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).isEqualTo("{\"error\":\"no live worker R00000000000000a1 under /worker\",\"status\":404}");

        assertThat(get("/api/worker/not-an-id/info").statusCode()).isEqualTo(400);
        String flame = "/api/worker/" + workers.callee() + "/flame";
        assertThat(get(flame + "?seconds=0").statusCode()).isEqualTo(400);
        assertThat(get(flame + "?seconds=61").statusCode()).isEqualTo(400);
        assertThat(get(flame + "?seconds=x").body()).contains("seconds='x' is not a whole number from 1 to 60");
        assertThat(get(flame + "?kind=wall").body()).contains("kind='wall' is not one of cpu, alloc, lock");
        assertThat(get("/nothing/here").statusCode()).isEqualTo(404);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(console.uri().resolve("/api/circuit"))
            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        // the server is still fine after all that
        assertThat(get("/api/circuit").statusCode()).isEqualTo(200);
    }

    /**
     * ZooKeeper away: a worker's endpoints say 503 within the console's bound for a read of the namespace,
     * as /api/circuit does (before: 500 with the NamespaceException's text, once Curator gave up 10 to 20 s
     * later), and answer again once it is back.
     */
    @Test
    void shouldAnswer503WithinItsBoundForAWorkerWhileZooKeeperIsAway() throws Exception {
        String zk = circuit.zookeeper();
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", Integer.parseInt(zk.substring(zk.lastIndexOf(':') + 1)));
        try (FaultProxy proxy = FaultProxy.start(server);
             Namespace throughProxy = Namespace.connect(NamespaceConfig.of("127.0.0.1:" + proxy.port()));
             ConsoleServer away = ConsoleCommand.serve(new ConsoleServer.Config("127.0.0.1", 0, 300, Duration.ofSeconds(2)),
                 throughProxy, opsClient, "--port")) {
            HttpRequest info = HttpRequest.newBuilder(away.uri().resolve("/api/worker/" + workers.callee() + "/info")).build();
            HttpRequest stack = HttpRequest.newBuilder(away.uri().resolve("/api/worker/" + workers.callee() + "/stack")).build();
            assertThat(http.send(info, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            proxy.blackhole(); // the connection looks up, and the read never comes back: the console's bound ends the wait
            long start = System.nanoTime();
            HttpResponse<String> silent = http.send(info, HttpResponse.BodyHandlers.ofString());
            assertThat(silent.statusCode()).as(silent.body()).isEqualTo(503);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));

            proxy.drop(); // the server stopped: the connection is down, and a request says so at once
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                HttpResponse<String> r = http.send(stack, HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                assertThat(r.body()).contains("the circuit cannot be read");
            });

            proxy.pass();
            await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(http.send(info, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200));
        }
    }

    @Test
    void shouldServeThePageWithItsOwnFilesOnly() throws Exception {
        HttpResponse<String> page = get("/");

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p -> assertThat(p).contains("default-src 'self'"));
        assertThat(page.body()).contains("<svg id=\"graph\"", "src=\"/console.js\"").doesNotContain("src=\"http", "href=\"http");
        assertThat(get("/console.js").body()).contains("/api/circuit").doesNotContain("https://");
    }

    @Test
    void shouldRefuseARequestNamingAnotherHostAsDnsRebindingWould() throws Exception {
        try (Socket s = new Socket("127.0.0.1", console.address().getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET /api/circuit HTTP/1.1\r\nHost: attacker.example:" + console.address().getPort()
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(reply).startsWith("HTTP/1.1 403").contains("is not this console's address");
        }
    }

    /**
     * Bound to every interface (the README's {@code --bind 0.0.0.0 --insecure}), the console still refuses a
     * name that a page rebound to this machine would send, even with a matching Origin; it answers an IP
     * address and this machine's own name. Before: the Host check was skipped on the wildcard address.
     */
    @Test
    void shouldRefuseARequestNamingAnotherHostWhenBoundToEveryInterface() throws Exception {
        ConsoleServer wide = ConsoleCommand.serve(new ConsoleServer.Config("0.0.0.0", 0, 300, Duration.ofSeconds(2)),
            namespace, opsClient, "--port");
        try {
            int port = wide.address().getPort();
            assertThat(rawGet(port, "attacker.example:" + port, "http://attacker.example:" + port))
                .startsWith("HTTP/1.1 403").contains("is not this console's address");
            assertThat(rawGet(port, "127.0.0.1:" + port, null)).startsWith("HTTP/1.1 200");
            assertThat(rawGet(port, "10.1.2.3:" + port, null)).as("an address: no page of another origin sends it")
                .startsWith("HTTP/1.1 200");
            String me = java.net.InetAddress.getLocalHost().getHostName();
            assertThat(rawGet(port, me + ":" + port, null)).as("this machine's name, " + me).startsWith("HTTP/1.1 200");
        } finally {
            wide.close();
        }
    }

    /** A GET of /api/circuit on {@code port} with these headers (Origin when not null); the whole reply. */
    private static String rawGet(int port, String host, String origin) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(("GET /api/circuit HTTP/1.1\r\nHost: " + host + "\r\n"
                + (origin == null ? "" : "Origin: " + origin + "\r\nSec-Fetch-Site: same-origin\r\n")
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The JDK's server refuses a target that is no URI before the console sees it: a 400, in HTML (README, Web console). */
    @Test
    void shouldLeaveAMalformedEscapeToTheJdkServersOwn400() throws Exception {
        try (Socket s = new Socket("127.0.0.1", console.address().getPort())) {
            s.getOutputStream().write(("GET /api/worker/" + workers.callee() + "/flame?kind=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(reply).startsWith("HTTP/1.1 400").contains("URISyntaxException thrown");
        }
    }

    @Test
    void shouldDumpTheThreadsOfALiveWorker() throws Exception {
        HttpResponse<String> r = get("/api/worker/" + workers.caller() + "/stack");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(r.body()).contains("caller-loop");
    }

    @Test
    void shouldProfileALiveWorkerIntoAFlameGraph() throws Exception {
        HttpResponse<String> r = get("/api/worker/" + workers.caller() + "/flame?kind=cpu&seconds=1");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(r.body()).containsIgnoringCase("<html");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p -> assertThat(p).startsWith("sandbox allow-scripts;"));
        HttpResponse<String> last = get("/api/worker/" + workers.caller() + "/last-flame");
        assertThat(last.statusCode()).isEqualTo(200);
        assertThat(last.body()).isEqualTo(r.body());
        assertThat(get("/api/worker/" + workers.callee() + "/last-flame").statusCode()).as("none taken of it").isEqualTo(404);
    }

    @Test
    void shouldRefuseApiRequestsThatAPageOfAnotherSiteMadeAndHeadOnTheApi() throws Exception {
        URI flame = console.uri().resolve("/api/worker/" + workers.caller() + "/flame?seconds=1");
        // before: an image on any page the operator opened could start a profile
        for (String[] header : List.of(new String[] {"Sec-Fetch-Site", "cross-site"}, new String[] {"Sec-Fetch-Site", "same-site"},
            new String[] {"Origin", "http://evil.example"})) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(flame).header(header[0], header[1]).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(header[0] + ": " + header[1]).isEqualTo(403);
            assertThat(r.body()).contains("is refused: open the console itself");
        }
        HttpResponse<String> same = http.send(HttpRequest.newBuilder(console.uri().resolve("/api/circuit"))
            .header("Sec-Fetch-Site", "same-origin").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(same.statusCode()).isEqualTo(200);
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(flame).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).as("a HEAD would profile only to throw the graph away").isEqualTo(405);
        assertThat(get("/favicon.ico").statusCode()).isEqualTo(204);
    }

    /**
     * The page in headless Chromium, driven by Selenium: Debian's {@code chromium} and {@code chromedriver},
     * named by path so that Selenium Manager never downloads a browser.
     */
    @Nested
    @Tag("browser")
    class InABrowser {

        @Test
        void shouldDrawTheLiveCircuitAndShowAWorkersStackAndFlameGraph(@TempDir Path profile) throws Exception {
            try (Browser browser = Browser.start(profile)) {
                BrowserChecks.drawsTheCircuitAndItsStackAndFlameGraph(browser.driver(), console, workers);
            }
        }
    }

    /**
     * A callee on host-2 filed under {@code /console/callee}, and a caller on host-1 under
     * {@code /console/caller} that calls it every 10 ms on a thread named {@code caller-loop}.
     */
    record TwoWorkers(String caller, String callee, Spawned<LongSupplier> callerHandle, Spawned<LongSupplier> calleeHandle) {

        static TwoWorkers spawn(Circuit client) {
            // each worker returns a reference into itself, which keeps it alive while the test holds it
            Spawned<LongSupplier> callee = client.spawn("host-2", List.of("/console/callee"), () -> {
                Circuit c = Circuit.current();
                c.listen("echo", LongUnaryOperator.class, x -> x + 1);
                return c.ref(LongSupplier.class, () -> ProcessHandle.current().pid());
            });
            String calleeAddress = callee.worker().address().toString();
            Spawned<LongSupplier> caller = client.spawn("host-1", List.of("/console/caller"), () -> {
                Circuit c = Circuit.current();
                Thread.ofPlatform().name("caller-loop").daemon().start(() -> callForever(c, calleeAddress));
                return c.ref(LongSupplier.class, () -> ProcessHandle.current().pid());
            });
            return new TwoWorkers(caller.worker().id().toString(), callee.worker().id().toString(), caller, callee);
        }

        private static void callForever(Circuit c, String calleeAddress) {
            LongUnaryOperator echo = c.worker(Address.parse(calleeAddress)).dial("echo", LongUnaryOperator.class);
            for (long i = 0; ; i++) {
                try {
                    echo.applyAsLong(i);
                    Thread.sleep(10); // paces the load: a flow of about 100 calls/s, not a wait for a condition
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the callee is gone: the worker ends with the test
                    return;
                }
            }
        }
    }
}
