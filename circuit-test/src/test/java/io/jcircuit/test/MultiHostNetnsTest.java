package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.SpawnOptions;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.link.Link;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two hosts with their own addresses: this JVM (ZooKeeper and a client) in the machine's network
 * namespace, and a host daemon with its worker in a network namespace of its own, joined by a veth
 * pair. The test cuts the host off by taking the link down, once for less than the outage limit
 * (every call must run exactly once) and once for good (the worker must be declared dead, by the
 * outage limit or by its ZooKeeper session expiring, whichever comes first). All
 * links run over mutual TLS from a cluster key, the way a multi-host circuit does.
 *
 * <p>Needs root and iproute2 ({@code ip netns}); where the sandbox forbids them the class is
 * skipped, and says why.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiHostNetnsTest {

    static final int SILENCE_MS = 600;
    static final int OUTAGE_LIMIT_MS = 4_000;
    static final Duration SLACK = Duration.ofSeconds(3);

    static String ns;
    static String vethRoot;
    static String rootIp;
    static String nsIp;
    static TestingServer zk;
    static Path dir;
    static Process host;
    static CircuitRuntime client;
    static WorkerPauseTest.Counted counted;

    /** Runs a command; returns null on success, else what it printed. */
    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.waitFor() == 0 ? null : String.join(" ", cmd) + ": " + out;
    }

    static void must(String... cmd) throws IOException, InterruptedException {
        String failed = run(cmd);
        assertThat(failed).as("command failed").isNull();
    }

    @BeforeAll
    static void setUp() throws Exception {
        int n = ThreadLocalRandom.current().nextInt(1, 250);
        ns = "jcircuit-" + ProcessHandle.current().pid();
        vethRoot = "jcv" + n + "a";
        String vethNs = "jcv" + n + "b";
        rootIp = "10.213." + n + ".1";
        nsIp = "10.213." + n + ".2";
        String why;
        try {
            why = run("ip", "netns", "add", ns);
        } catch (IOException e) {
            why = e.getMessage();
        }
        if (why != null) {
            System.out.println("MultiHostNetnsTest skipped: network namespaces are not available here (" + why + ")");
        }
        Assumptions.assumeTrue(why == null, "skipped: network namespaces are not available here (" + why
            + "); this test needs root and iproute2");
        must("ip", "link", "add", vethRoot, "type", "veth", "peer", "name", vethNs);
        must("ip", "link", "set", vethNs, "netns", ns);
        must("ip", "addr", "add", rootIp + "/30", "dev", vethRoot);
        must("ip", "link", "set", vethRoot, "up");
        must("ip", "netns", "exec", ns, "ip", "addr", "add", nsIp + "/30", "dev", vethNs);
        must("ip", "netns", "exec", ns, "ip", "link", "set", vethNs, "up");
        must("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");

        zk = new TestingServer(true); // listens on every interface, the veth's address included
        String connect = rootIp + ":" + zk.getPort();
        dir = Files.createTempDirectory("jcircuit-netns-");
        Path key = dir.resolve(ClusterKey.FILE_NAME);
        ClusterKey.generate().writeTo(key);

        host = NetnsHostMain.start(List.of("ip", "netns", "exec", ns), "host-2", dir.resolve("host-2"), connect,
            nsIp, key);

        RuntimeConfig.Builder c = RuntimeConfig.builder().zookeeper(connect).bindHost(rootIp).clusterKeyFile(key)
            .defaultCallTimeoutMs(60_000);
        c.link().heartbeatIntervalMs(100).silenceLimitMs(SILENCE_MS).outageLimitMs(OUTAGE_LIMIT_MS)
            .redialMinMs(10).redialMaxMs(200);
        client = CircuitRuntime.start(c.build());
        counted = client.spawn("host-2", List.of(),
            () -> Circuit.current().ref(WorkerPauseTest.Counted.class, new WorkerPauseTest.Counter()),
            SpawnOptions.defaults().withJvmArgs("-Dcircuit.link.heartbeatMs=100",
                "-Dcircuit.link.silenceMs=" + SILENCE_MS, "-Dcircuit.link.outageLimitMs=60000")).result();
        assertThat(client.homeOf(counted).address().host()).isEqualTo(nsIp);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (ns == null) {
            return;
        }
        run("ip", "link", "set", vethRoot, "up");
        if (client != null) {
            client.close();
        }
        if (host != null) {
            NetnsHostMain.stop(host);
        }
        if (zk != null) {
            zk.close();
        }
        run("ip", "link", "del", vethRoot);
        run("ip", "netns", "del", ns);
        if (dir != null) {
            io.jcircuit.host.Dirs.deleteTree(dir);
        }
    }

    private static Link linkToWorker() {
        var home = client.homeOf(counted).id();
        return client.links().stream().filter(l -> l.peer().equals(home)).findFirst().orElseThrow();
    }

    @Test
    @Order(1)
    void shouldRunEveryCallExactlyOnceWhileTheHostIsCutOffBriefly() throws Exception {
        RobustLinkTest.Load load = new RobustLinkTest.Load(counted::run, 4);
        try (load) {
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
            Link link = linkToWorker();
            long before = link.outages();
            long cutAt = System.nanoTime();
            must("ip", "link", "set", vethRoot, "down");
            try {
                await().atMost(Duration.ofMillis(SILENCE_MS).plus(SLACK)).until(() -> link.outages() > before);
                System.out.printf("MultiHostNetnsTest: cut noticed after %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt));
                long left = cutAt + TimeUnit.SECONDS.toNanos(2) - System.nanoTime();
                if (left > 0) {
                    TimeUnit.NANOSECONDS.sleep(left); // the cut itself is what is tested
                }
            } finally {
                must("ip", "link", "set", vethRoot, "up");
            }
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
        }
        assertThat(load.failures).isEmpty();
        assertThat(counted.repeated()).isZero();
        assertThat(counted.ids()).isEqualTo(load.answered);
        System.out.printf("MultiHostNetnsTest: cut for 2 s: %d calls, each run once%n", load.answered.size());
    }

    @Test
    @Order(2)
    void shouldDeclareTheWorkerDeadWhenItsHostStaysCutOff() throws Exception {
        RobustLinkTest.Load load = new RobustLinkTest.Load(counted::run, 4);
        long cutAt;
        try (load) {
            load.awaitMoreAnswers(200, Duration.ofSeconds(30));
            cutAt = System.nanoTime();
            must("ip", "link", "set", vethRoot, "down");
            await().atMost(Duration.ofMillis(SILENCE_MS + OUTAGE_LIMIT_MS).plus(SLACK)).until(load::allDone);
        } finally {
            must("ip", "link", "set", vethRoot, "up");
        }
        long detectedMs = TimeUnit.NANOSECONDS.toMillis(load.firstFailureNanos.get() - cutAt);
        System.out.printf("MultiHostNetnsTest: host cut off for good, worker declared dead after %d ms%n", detectedMs);
        assertThat(load.failures).isNotEmpty().allSatisfy(t -> assertThat(t).isInstanceOf(WorkerDiedException.class));
        // Whichever comes first: the outage limit, or the worker's ZooKeeper session expiring (it is
        // cut off from ZooKeeper too), which takes it out of /worker.
        assertThat(load.failures).allSatisfy(t -> assertThat(t.getMessage()).containsAnyOf("outage limit", "left /worker"));
        assertThat(detectedMs).isGreaterThanOrEqualTo(SILENCE_MS);
    }
}
