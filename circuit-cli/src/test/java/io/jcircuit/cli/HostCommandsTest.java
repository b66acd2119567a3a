package io.jcircuit.cli;

import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.test.FaultProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code start}, {@code hosts} and {@code stop} against host daemons running in this JVM, on real
 * sockets and an embedded ZooKeeper found through a temporary state directory.
 */
class HostCommandsTest {

    @TempDir
    static Path state;
    private static HostDaemon h1;

    @BeforeAll
    static void startHost() {
        h1 = HostDaemon.start(new HostDaemon.Config("h1", state, null, null, 0));
    }

    @AfterAll
    static void stopHost() {
        h1.close();
    }

    static StartCommand.Plan planOf(Map<String, String> env, String... args) {
        CommandLine cl = CliRun.with(env).commandLine();
        cl.parseArgs(java.util.stream.Stream.concat(java.util.stream.Stream.of("start"), java.util.Arrays.stream(args))
            .toArray(String[]::new));
        return ((StartCommand) cl.getSubcommands().get("start").getCommand()).plan();
    }

    @Test
    void shouldListRunningHostsWithAddressAndWorkers() {
        CliRun.Result r = CliRun.run("hosts", "--dir", state.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst()).hasValueSatisfying(header ->
            assertThat(header).containsSubsequence("NAME", "ADDRESS", "WORKERS", "LOAD", "FREE MEMORY"));
        assertThat(r.out()).containsPattern("(?m)^h1\\s+" + h1.address().toString().replace(".", "\\.") + "\\s+0\\s+")
            .containsPattern("\\d+ MiB");
    }

    @Test
    void shouldPrintHostsAsOneJsonObject() {
        CliRun.Result r = CliRun.run("hosts", "--json", "--dir", state.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).startsWith("{\"hosts\":[{\"name\":\"h1\",\"worker\":\"" + h1.runtime().id() + "\"")
            .contains("\"address\":\"" + h1.address() + "\"")
            .contains("\"pid\":" + ProcessHandle.current().pid())
            .contains("\"workers\":0")
            .containsPattern("\"freeMemoryMb\":\\d+")
            .containsPattern("\"reported\":\"\\d{4}-")
            .endsWith("}]}");
    }

    @Test
    void shouldNameAHostWhoseLastReportIsOld() {
        // a host frozen (SIGSTOP) past 30 s keeps its entry while its ZooKeeper session lasts; filed
        // here as such a host would have filed itself five minutes ago
        try (CircuitRuntime frozen = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(h1.zookeeper()).build())) {
            long fiveMinutesAgo = System.currentTimeMillis() - Duration.ofMinutes(5).toMillis();
            ((io.jcircuit.anchor.NamespaceAnchors) frozen.anchors()).fileAsHost("frozen", Map.of(HostService.ROLE_KEY, HostService.ROLE_HOST, "workers", "2",
                HostService.REPORTED_KEY, Long.toString(fiveMinutesAgo)));

            CliRun.Result r = CliRun.run("hosts", "--dir", state.toString());
            CliRun.Result json = CliRun.run("hosts", "--json", "--dir", state.toString());

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).containsPattern("(?m)^frozen\\s").containsPattern("(?m)^h1\\s");
            assertThat(r.err()).containsPattern("host frozen last reported its figures 30\\d s ago")
                .contains("may be frozen").doesNotContain("host h1");
            assertThat(json.out()).contains("\"reported\":\"" + java.time.Instant.ofEpochMilli(fiveMinutesAgo) + "\"");
        }
    }

    @Test
    void shouldSaySoWhenNoHostRuns(@TempDir Path empty) {
        try (CircuitRuntime noHosts = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(empty).build())) {
            CliRun.Result text = CliRun.run("hosts", "--dir", empty.toString());
            CliRun.Result json = CliRun.run("hosts", "--json", "--dir", empty.toString());

            assertThat(text.code()).isZero();
            assertThat(text.out()).isEmpty();
            assertThat(text.err()).contains("no hosts in the circuit at " + noHosts.embeddedZooKeeperConnectString().orElseThrow())
                .contains("circuit start");
            assertThat(json.out().strip()).isEqualTo("{\"hosts\":[]}");
        }
    }

    @Test
    void shouldStopAHostAndWaitUntilItHasLeft(@TempDir Path other) {
        HostDaemon h2 = HostDaemon.start(new HostDaemon.Config("h2", other, h1.zookeeper(), null, 0));
        try (ExecutorService vt = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
                try {
                    h2.awaitStop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, vt);
            assertThat(CliRun.run("hosts", "--dir", state.toString()).out()).containsPattern("(?s)\\nh1 .*\\nh2 ");

            CliRun.Result r = CliRun.run("stop", "--dir", state.toString(), "h2");

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).contains("stopped host h2 (" + h2.runtime().id() + " at " + h2.address() + ")");
            await().atMost(Duration.ofSeconds(10)).until(stopped::isDone);
            assertThat(CliRun.run("hosts", "--dir", state.toString()).out()).contains("h1").doesNotContain("h2");
        } finally {
            h2.close();
        }
    }

    @Test
    void shouldStopAHostBackFromAnOutageWhoseNameAnotherHostTookMeanwhile(@TempDir Path a, @TempDir Path b) throws Exception {
        // as a 'circuit start --name twin' paused with 'kill -STOP' past its session timeout, while a second
        // 'circuit start --name twin' starts: when the first is back, two running hosts were filed as 'twin'
        String[] zk = h1.zookeeper().split(":");
        try (FaultProxy zkProxy = FaultProxy.start(new java.net.InetSocketAddress(zk[0], Integer.parseInt(zk[1])));
             ExecutorService vt = Executors.newVirtualThreadPerTaskExecutor()) {
            CliRun first = CliRun.with(Map.of());
            CompletableFuture<CliRun.Result> run = CompletableFuture.supplyAsync(() -> first.execute("start",
                "--zookeeper", "127.0.0.1:" + zkProxy.port(), "--dir", a.toString(), "--name", "twin"), vt);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.out().contains("host twin at"));
            io.jcircuit.Address firstAt = h1.runtime().anchors().list("/host/twin").entries().getFirst().address();
            try {
                zkProxy.blackhole();
                await().atMost(Duration.ofSeconds(30)).until(() -> hostsNamed("twin").isEmpty()); // its session expired
                try (HostDaemon second = HostDaemon.start(new HostDaemon.Config("twin", b, h1.zookeeper(), null, 0))) {
                    zkProxy.pass();

                    await("the host back from its outage stopped, not filed beside the one that took its name")
                        .atMost(Duration.ofSeconds(30)).until(run::isDone);
                    CliRun.Result r = run.join();
                    assertThat(r.code()).as(r.out()).isEqualTo(1);
                    assertThat(r.err()).contains("circuit start: host twin stopped: its name is now held by host "
                        + second.runtime().id() + " at " + second.address());
                    assertThat(hostsNamed("twin")).containsExactly(second.runtime().id());
                    assertThat(CliRun.run("hosts", "--dir", state.toString()).out()).containsOnlyOnce("twin");
                }
            } finally {
                if (!run.isDone()) { // it ran on: stop it, through its own address ('circuit stop twin' may reach the other)
                    zkProxy.pass();
                    h1.runtime().worker(firstAt).dial(HostService.SERVICE, HostService.class).stop();
                    run.orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
                }
            }
        }
    }

    /** The workers filed as host daemons under {@code /host/<name>}. */
    private static List<io.jcircuit.WorkerId> hostsNamed(String name) {
        return h1.runtime().anchors().list("/host/" + name).entries().stream()
            .filter(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY)))
            .map(io.jcircuit.Entry::worker).toList();
    }

    @Test
    void shouldNameTheRunningHostsWhenAskedToStopAnUnknownOne() {
        CliRun.Result r = CliRun.run("stop", "--dir", state.toString(), "nope");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("circuit stop: no host named 'nope'").contains("running hosts: h1");
        assertThat(CliRun.run("hosts", "--dir", state.toString()).out()).contains("h1");
    }

    @Test
    void shouldRunHostsInTheForegroundUntilStopped(@TempDir Path dir) {
        try (ExecutorService vt = Executors.newVirtualThreadPerTaskExecutor()) {
            CliRun first = CliRun.with(Map.of());
            CompletableFuture<CliRun.Result> s1 = CompletableFuture.supplyAsync(() ->
                first.execute("start", "--embedded", "--dir", dir.toString(), "--name", "s1", "--addr", "127.0.0.1:0"), vt);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.out().contains("host s1 at 127.0.0.1:"));
            assertThat(first.out()).contains("(embedded, run by this host)").contains("state in " + dir)
                .contains("circuit stop s1");

            CliRun second = CliRun.with(Map.of());
            CompletableFuture<CliRun.Result> s2 = CompletableFuture.supplyAsync(() ->
                second.execute("start", "--dir", dir.toString(), "--name", "s2"), vt);
            await().atMost(Duration.ofSeconds(30)).until(() -> second.out().contains("host s2 at"));
            assertThat(second.out()).contains("(joined, from " + dir.resolve("zookeeper").resolve("connect") + ")");
            assertThat(CliRun.run("hosts", "--dir", dir.toString()).out()).containsPattern("(?s)\\ns1 .*\\ns2 ");
            // a second embedded one on the same state is refused, without "(ZooKeeper: embedded, run by this host)"
            // after it, which said the opposite (a probe)
            CliRun.Result third = CliRun.run("start", "--embedded", "--dir", dir.toString(), "--name", "s3");
            assertThat(third.code()).isEqualTo(1);
            assertThat(third.err()).contains("another runtime already runs the embedded ZooKeeper of").doesNotContain("run by this host");

            CliRun.Result stop2 = CliRun.run("stop", "--dir", dir.toString(), "s2");
            assertThat(stop2.code()).as(stop2.err()).isZero();
            assertThat(s2.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join().code()).isZero();

            CliRun.Result stop1 = CliRun.run("stop", "--dir", dir.toString(), "s1");
            assertThat(stop1.code()).as(stop1.err()).isZero();
            assertThat(stop1.out()).contains("stopped host s1");
            CliRun.Result r1 = s1.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
            assertThat(r1.code()).as(r1.err()).isZero();
            assertThat(dir.resolve("zookeeper").resolve("connect")).doesNotExist();
        }
    }

    @Test
    void shouldServeTheConsoleFromTheHostWhileItRuns(@TempDir Path dir) throws Exception {
        try (ExecutorService vt = Executors.newVirtualThreadPerTaskExecutor()) {
            CliRun start = CliRun.with(Map.of());
            CompletableFuture<CliRun.Result> host = CompletableFuture.supplyAsync(() ->
                start.execute("start", "--embedded", "--dir", dir.toString(), "--name", "hc", "--console", "0"), vt);
            await().atMost(Duration.ofSeconds(30)).until(() -> start.out().contains("console at http://127.0.0.1:"));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("console at (http://\\S+)").matcher(start.out());
            assertThat(m.find()).isTrue();
            java.net.URI api = java.net.URI.create(m.group(1)).resolve("/api/circuit");
            try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
                var reply = http.send(java.net.http.HttpRequest.newBuilder(api).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(reply.statusCode()).isEqualTo(200);
                assertThat(reply.body()).contains("\"name\":\"hc\"");
            }
            CliRun.Result stop = CliRun.run("stop", "--dir", dir.toString(), "hc");
            assertThat(stop.code()).as(stop.err()).isZero();
            assertThat(host.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join().code()).isZero();
            try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> http.send(java.net.http.HttpRequest.newBuilder(api).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
            }
        }
    }

    @Test
    void shouldNotStartAHostWhoseConsolePortIsTaken(@TempDir Path dir) throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliRun.Result r = CliRun.run("start", "--embedded", "--dir", dir.toString(), "--name", "hp",
                "--console", Integer.toString(taken.getLocalPort()));
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort())
                .contains("choose another --console port");
            assertThat(r.out()).as("the host is not announced as started").doesNotContain("host hp at");
            assertThat(dir.resolve("zookeeper").resolve("connect")).as("its ZooKeeper is stopped too").doesNotExist();
        }
    }

    @Test
    void shouldJoinTheEmbeddedZooKeeperOfTheStateDirectoryUnlessToldToRunOne(@TempDir Path empty) {
        StartCommand.Plan join = planOf(Map.of(), "--dir", state.toString(), "--name", "j1");
        assertThat(join.config().zookeeper()).isEqualTo(h1.zookeeper());
        assertThat(join.zookeeper()).isEqualTo("joined, from " + state.resolve("zookeeper").resolve("connect"));
        assertThat(join.config().stateDir()).isEqualTo(state.toAbsolutePath());

        StartCommand.Plan forced = planOf(Map.of("CIRCUIT_ZOOKEEPER", "10.0.0.1:2181"), "--dir", state.toString(), "--embedded");
        assertThat(forced.config().zookeeper()).isNull();
        assertThat(forced.zookeeper()).isEqualTo("embedded, run by this host");

        StartCommand.Plan first = planOf(Map.of(), "--dir", empty.toString());
        assertThat(first.config().zookeeper()).isNull();
    }

    @Test
    void shouldSizeTheJarCacheFromItsFlag(@TempDir Path empty) {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", "10.0.0.1:2181", "CIRCUIT_DIR", empty.toString());
        assertThat(planOf(env).config().jarCacheBytes()).isEqualTo(io.jcircuit.host.HostDaemon.DEFAULT_JAR_CACHE_BYTES);
        assertThat(planOf(env, "--jar-cache", "512m").config().jarCacheBytes()).isEqualTo(512L << 20);
        assertThat(planOf(env, "--jar-cache", "4G").config().jarCacheBytes()).isEqualTo(4L << 30);
        assertThat(planOf(env, "--jar-cache", "1000").config().jarCacheBytes()).isEqualTo(1000L);
        assertThat(planOf(env, "--jar-cache", "1099511627776").config().jarCacheBytes()).isEqualTo(1L << 40);
        assertThat(planOf(env, "--jar-cache", "2t").config().jarCacheBytes()).isEqualTo(2L << 40);
        assertThat(planOf(env, "--jar-cache", "unlimited").config().jarCacheBytes()).isEqualTo(Long.MAX_VALUE);
        for (String bad : List.of("12x", "m", "-1g", "1.5g", "")) {
            assertThatThrownBy(() -> planOf(env, "--jar-cache", bad)).as(bad)
                .isInstanceOf(picocli.CommandLine.ParameterException.class).hasMessageContaining("is not a size");
        }
        assertThatThrownBy(() -> planOf(env, "--jar-cache", "9999999999999999999"))
            .isInstanceOf(picocli.CommandLine.ParameterException.class).hasMessageContaining("larger than any disk");
        assertThatThrownBy(() -> planOf(env, "--jar-cache", "999999999999g"))
            .isInstanceOf(picocli.CommandLine.ParameterException.class).hasMessageContaining("larger than any disk");
    }

    @Test
    void shouldTakeTheZooKeeperFromTheFlagThenTheEnvironment(@TempDir Path empty) {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", "10.0.0.1:2181", "CIRCUIT_DIR", empty.toString());

        StartCommand.Plan fromEnv = planOf(env);
        assertThat(fromEnv.config().zookeeper()).isEqualTo("10.0.0.1:2181");
        assertThat(fromEnv.zookeeper()).isEqualTo("joined, from $CIRCUIT_ZOOKEEPER");
        assertThat(fromEnv.config().stateDir()).isEqualTo(empty.toAbsolutePath());

        StartCommand.Plan fromFlag = planOf(env, "--zookeeper", "zk1:2181,zk2:2181");
        assertThat(fromFlag.config().zookeeper()).isEqualTo("zk1:2181,zk2:2181");
        assertThat(fromFlag.zookeeper()).isEqualTo("joined, from --zookeeper");
    }

    @Test
    void shouldBindTheGivenAddressAndDefaultToTheMachinesName(@TempDir Path empty) {
        StartCommand.Plan p = planOf(Map.of(), "--dir", empty.toString(), "--addr", "127.0.0.1:7123");

        assertThat(p.config().bindHost()).isEqualTo("127.0.0.1");
        assertThat(p.config().port()).isEqualTo(7123);
        assertThat(p.config().name()).matches("[A-Za-z0-9._-]+").isEqualTo(StartCommand.sanitize(p.config().name()));

        StartCommand.Plan defaults = planOf(Map.of(), "--dir", empty.toString(), "--name", "h-9_x.y");
        assertThat(defaults.config().name()).isEqualTo("h-9_x.y");
        assertThat(defaults.config().bindHost()).isEqualTo("127.0.0.1");
        assertThat(defaults.config().port()).isZero();
    }

    @Test
    void shouldSanitizeAHostnameIntoOnePathComponent() {
        assertThat(StartCommand.sanitize("my host.example.com")).isEqualTo("my-host.example.com");
        assertThat(StartCommand.sanitize("über:1")).isEqualTo("-ber-1");
        assertThat(StartCommand.sanitize("  ")).isEqualTo("host");
        assertThat(StartCommand.sanitize("..")).isEqualTo("host");
        assertThat(StartCommand.sanitize("R0123456789abcdef")).isEqualTo("host-R0123456789abcdef");
        assertThat(StartCommand.sanitize("x".repeat(300))).hasSize(StartCommand.MAX_NAME);
    }

    @Test
    void shouldSayWhereAnUnreachableZooKeeperCameFrom(@TempDir Path empty) {
        CliRun.Result r = CliRun.run("start", "--dir", empty.toString(), "--name", "lost", "--zookeeper", "127.0.0.1:1");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("circuit start: no ZooKeeper answered at 127.0.0.1:1")
            .contains("(ZooKeeper: joined, from --zookeeper)");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void shouldRefuseBadStartOptionsBeforeStartingAnything(@TempDir Path empty) {
        CliRun.Result both = CliRun.run("start", "--dir", empty.toString(), "--zookeeper", "a:1", "--embedded");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("--zookeeper").contains("--embedded").contains("mutually exclusive");

        CliRun.Result addr = CliRun.run("start", "--dir", empty.toString(), "--addr", "nowhere");
        assertThat(addr.code()).isEqualTo(2);
        assertThat(addr.err()).contains("not an address: 'nowhere'");

        // one line, as every verb reports a failure (before: no "circuit start:", then the whole usage)
        CliRun.Result every = CliRun.run("start", "--dir", empty.toString(), "--addr", "0.0.0.0:0");
        assertThat(every.code()).isEqualTo(1);
        assertThat(every.err()).startsWith("circuit start: --addr 0.0.0.0:0 listens on every interface")
            .doesNotContain("advertisedHost");
        assertThat(every.err().lines()).hasSize(1);

        CliRun.Result name = CliRun.run("start", "--dir", empty.toString(), "--name", "a b/c");
        assertThat(name.code()).isEqualTo(1);
        assertThat(name.err()).startsWith("circuit start: bad host name 'a b/c' for --name").contains("--name a-b-c");
        assertThat(name.err().lines()).hasSize(1);
        assertThat(empty.resolve("zookeeper")).doesNotExist();
    }
}
