package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.WorkerId;
import io.jcircuit.examples.swap.TallyShard;
import io.jcircuit.examples.swap.TallyShardImpl;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code circuit swap} and {@code circuit demo swap} against real host and worker JVMs, with two builds
 * of the tally shard: version 1 from {@code examples}, version 2 from the {@code examples-v2} jar. The tests
 * share one local circuit, each under anchors of its own, and end the workers they leave. (The swap whose
 * ZooKeeper goes away, {@link SwapZooKeeperAwayTest}, has a circuit of its own: it stops ZooKeeper.)
 */
@Tag("slow")
@Timeout(300)
class SwapCommandsTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    @Test
    void shouldSwapAServiceUnderLoadToADeploymentWithoutAFailedCall(CircuitRuntime client) throws Exception {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        CliRun.Result deploy = CliRun.run(env, "deploy", DemoSwapJar.locate().toString(), "--name", "tally", "--json");
        assertThat(deploy.code()).as(deploy.err()).isZero();
        var old = client.spawn(circuit.hosts().getFirst(), List.of(), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            Circuit.current().anchors().file("/tally/one", Map.of("shard", "3")); // its replacement files the same
            return "up";
        }, SpawnOptions.defaults().daemonized());
        Entry entry = client.anchors().list("/tally/one").entries().getFirst();
        TallyShard shard = client.anchors().worker(entry).dial(TallyShard.SERVICE, TallyShard.class);
        assertThat(shard.version()).isEqualTo("v1");

        try (SwapLoad load = SwapLoad.on(shard, 3)) {
            load.awaitMore(200);

            CliRun.Result swap = CliRun.run(env, "swap", "/tally/one", "--deployment", "tally", "--linger", "1", "--json");

            assertThat(swap.code()).as(swap.err()).isZero();
            assertThat(swap.out()).contains("\"old\":\"" + old.worker().id() + "\"").contains("\"services\":[\"tally.shard\"]")
                .contains("\"anchors\":[\"/tally/one\"]").contains("\"started_empty\":[]");
            load.awaitMore(200);
            assertThat(load.stop()).isEmpty();
            assertThat(load.byV2()).isPositive();
            assertThat(shard.count("k")).as("v2 took v1's count over").isEqualTo(load.added());
        }
        assertThat(shard.version()).isEqualTo("v2");

        CliRun.Result ls = CliRun.run(env, "ls", "-l", "/tally/one");
        assertThat(ls.out()).contains("tally:1").doesNotContain(old.worker().id().toString());
        assertThat(client.anchors().list("/tally/one").entries().getFirst().metadata())
            .as("the replacement is filed with the old entry's metadata, under its own code version")
            .containsEntry("shard", "3").containsEntry("code", "tally:1");
        await().until(() -> !CliRun.run(env, "ls", "/worker").out().contains(old.worker().id().toString()));
        Entry replacementUnderHost = client.anchors().listAll("/host").entries().stream()
            .filter(e -> e.worker().equals(client.anchors().list("/tally/one").entries().getFirst().worker()))
            .findFirst().orElseThrow();
        assertThat(replacementUnderHost.metadata()).as("a daemonized worker's replacement is daemonized")
            .containsEntry("daemon", "true").doesNotContainKey(io.jcircuit.runtime.host.WorkerMain.OWNER);

        // again, from the jar itself: deployed on the way, and the caller follows a second move
        long before = shard.count("k");
        CliRun.Result again = CliRun.run(env, "swap", "/tally/one", "--jar", DemoSwapJar.locate().toString(), "--linger", "1");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out()).contains("swapped ").doesNotContain("handed over no state");
        assertThat(shard.add("k", 1).count()).isEqualTo(before + 1);
        assertThat(shard.toString()).contains("moved to");

        CliRun.Result negative = CliRun.run(env, "swap", "/tally/one", "--deployment", "tally", "--linger", "-1");
        assertThat(negative.code()).isNotZero();
        assertThat(negative.err()).contains("--drain and --linger must be 0 or more seconds, not -1");
        assertThat(shard.add("k", 1).count()).as("nothing was started").isEqualTo(before + 2);

        // a deployment that does not exist is named as such, with what exists (before: only per-worker failures)
        CliRun.Result nosuch = CliRun.run(env, "swap", "/tally/one", "--deployment", "nosuch");
        assertThat(nosuch.code()).isEqualTo(1);
        assertThat(nosuch.err()).startsWith("circuit swap: --deployment nosuch: no deployment named 'nosuch'; there are ")
            .contains("tally");
        CliRun.Result noVersion = CliRun.run(env, "swap", "/tally/one", "--deployment", "tally:9");
        assertThat(noVersion.code()).isEqualTo(1);
        assertThat(noVersion.err()).startsWith("circuit swap: --deployment tally:9: deployment 'tally' has no version 9; it has tally:1");
        assertThat(shard.add("k", 1).count()).as("nothing was started").isEqualTo(before + 3);

        CliRun.Result none = CliRun.run(env, "swap", "/worker/" + client.id(), "--deployment", "tally");
        assertThat(none.code()).isNotZero();
        assertThat(none.err()).containsAnyOf("no service to swap", "no entry", "not started by a host");

        // a file that is not a jar is neither deployed nor recorded
        java.nio.file.Path text = java.nio.file.Files.createTempFile("not-a-jar", ".jar");
        try {
            java.nio.file.Files.writeString(text, "just text");
            CliRun.Result notJar = CliRun.run(env, "swap", "/tally/one", "--jar", text.toString());
            assertThat(notJar.code()).isNotZero();
            assertThat(notJar.err()).contains("is not a readable jar");
            assertThat(CliRun.run(env, "deploy", "--list").out()).doesNotContain(text.getFileName().toString());
        } finally {
            java.nio.file.Files.deleteIfExists(text);
        }

        // the chain's last worker ends: every record of both swaps goes, the first hop's too
        assertThat(client.durable().listAll("/moved").entries()).as("the records of both hops").hasSizeGreaterThanOrEqualTo(2);
        CliRun.Result kill = CliRun.run(env, "kill", "/tally/one");
        assertThat(kill.code()).as(kill.err()).isZero();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(client.durable().listAll("/moved").entries())
            .as("records left once the chain's last worker ended").isEmpty());
    }

    /**
     * A worker that ends with its spawner (not daemonized) is replaced by one that ends with that same
     * runtime, not by a daemonized one that outlives the program it belonged to (before: every replacement
     * was daemonized, and lived on for ever once the program ended). A daemonized one's replacement is
     * daemonized.
     */
    @Test
    void shouldGiveAReplacementTheLifetimeOfTheWorkerItReplaces(CircuitRuntime client) throws Exception {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        CliRun.Result deploy = CliRun.run(env, "deploy", DemoSwapJar.locate().toString(), "--name", "tally", "--json");
        assertThat(deploy.code()).as(deploy.err()).isZero();
        CircuitRuntime program = circuit.newClient();
        io.jcircuit.WorkerId replacement;
        try {
            var old = program.spawn(circuit.hosts().getFirst(), List.of(), () -> {
                Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
                Circuit.current().anchors().file("/tally/owned");
                return "up";
            });
            TallyShard shard = old.worker().dial(TallyShard.SERVICE, TallyShard.class); // held: the old worker stays
            assertThat(shard.add("k", 1).count()).isEqualTo(1);

            CliRun.Result swap = CliRun.run(env, "swap", "/tally/owned", "--deployment", "tally", "--linger", "1", "--json");
            assertThat(swap.code()).as(swap.err()).isZero();
            assertThat(shard.add("k", 1).count()).as("the program's proxy follows the move").isEqualTo(2);
            assertThat(shard.version()).isEqualTo("v2");
            replacement = client.anchors().list("/tally/owned").entries().getFirst().worker();
            assertThat(replacement).isNotEqualTo(old.worker().id());
            Entry underHost = client.anchors().listAll("/host").entries().stream()
                .filter(e -> e.worker().equals(replacement)).findFirst().orElseThrow();
            assertThat(underHost.metadata()).containsEntry("daemon", "false")
                .containsEntry(io.jcircuit.runtime.host.WorkerMain.OWNER, program.id().toString());
        } finally {
            program.close();
        }
        // the program is gone: so is the replacement, as the old worker would have gone
        await().atMost(java.time.Duration.ofSeconds(60)).until(() -> client.anchors().list("/worker").entries().stream()
            .noneMatch(e -> e.worker().equals(replacement)));
    }

    @Test
    void shouldFailASwapWhoseReplacementDiesAndLeaveTheOldWorkerRunning(CircuitRuntime client) throws Exception {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        var old = client.spawn(circuit.hosts().getFirst(), List.of("/tally/two"), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            return ProcessHandle.current().pid();
        }, SpawnOptions.defaults().daemonized());
        long oldPid = old.result();
        try {
            java.util.concurrent.CompletableFuture<CliRun.Result> swap = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                CliRun.run(env, "swap", "/tally/two", "--jar", DemoSwapJar.locate().toString(), "--linger", "5"),
                r -> Thread.ofVirtual().start(r));
            Entry replacement = await().atMost(java.time.Duration.ofSeconds(60)).until(() -> client.anchors().list("/tally/two")
                .entries().stream().filter(e -> !e.worker().equals(old.worker().id())).findFirst(), java.util.Optional::isPresent)
                .orElseThrow();
            ProcessHandle.of(replacement.pid()).orElseThrow().destroyForcibly();

            CliRun.Result r = swap.get(120, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(r.code()).isNotZero();
            // killed during the take-over or after it, depending on how fast the replacement answered
            assertThat(r.err()).containsPattern("the replacement " + replacement.worker() + " died (during the take-over|after it took over)")
                .contains("the old worker " + old.worker().id() + " is left running and serves [" + TallyShard.SERVICE + "] again");
            assertThat(ProcessHandle.of(oldPid).map(ProcessHandle::isAlive)).contains(true);
            TallyShard shard = old.worker().dial(TallyShard.SERVICE, TallyShard.class);
            assertThat(shard.add("k", 1).count()).as("the old worker serves again").isEqualTo(1);
            assertThat(shard.version()).isEqualTo("v1");
        } finally {
            old.worker().kill();
        }
    }

    /**
     * A replacement that crashes after its swap is over: its host, which sees its process end, deletes the
     * forwarding record that led to it, as it leads nowhere now. (Before, every swap's records stayed for ever.)
     */
    @Test
    void shouldDeleteTheForwardingRecordOnceTheReplacementCrashes(CircuitRuntime client) throws Exception {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        var old = client.spawn(circuit.hosts().getFirst(), List.of("/tally/crash"), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            return "up";
        }, SpawnOptions.defaults().daemonized());
        String oldRecords = "/moved/" + old.worker().id();

        CliRun.Result swap = CliRun.run(env, "swap", "/tally/crash", "--jar", DemoSwapJar.locate().toString(), "--linger", "0");
        assertThat(swap.code()).as(swap.err()).isZero();
        Entry replacement = client.anchors().list("/tally/crash").entries().getFirst();
        try {
            await().until(() -> client.anchors().list("/worker").entries().stream().noneMatch(e -> e.worker().equals(old.worker().id())));
            assertThat(client.durable().list(oldRecords).entries()).as("the old worker exited; its record leads on").hasSize(1);

            ProcessHandle.of(replacement.pid()).orElseThrow().destroyForcibly();

            await().until(() -> client.durable().list(oldRecords).entries().isEmpty()
                && client.durable().listAll("/moved-to/" + replacement.worker()).entries().isEmpty());
        } finally {
            ProcessHandle.of(replacement.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * The replacement dies during the linger, after the old worker drained (withdrew its anchors): the old
     * worker takes the service back and is filed again where it was, so that lookups by anchor find it.
     * (A probe found it reachable by address only.) It does so as the replacement ends, not once the linger
     * is over: the linger here is longer than the test waits for the swap. (Before, the swap slept through it.)
     */
    @Test
    void shouldFileTheOldWorkerAgainWhenItTakesTheServiceBackAfterItsDrain(CircuitRuntime client) throws Exception {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        var old = client.spawn(circuit.hosts().getFirst(), List.of("/tally/three"), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            return "up";
        }, SpawnOptions.defaults().daemonized());
        var oldId = old.worker().id();
        try {
            java.util.concurrent.CompletableFuture<CliRun.Result> swap = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                    CliRun.run(env, "swap", "/tally/three", "--jar", DemoSwapJar.locate().toString(), "--linger", "600"),
                r -> Thread.ofVirtual().start(r));
            // drained: the replacement is filed and the old worker no longer is; the swap lingers now
            Entry replacement = await().atMost(java.time.Duration.ofSeconds(90))
                .until(() -> client.anchors().list("/tally/three").entries(),
                    l -> l.size() == 1 && !l.getFirst().worker().equals(oldId)).getFirst();
            ProcessHandle.of(replacement.pid()).orElseThrow().destroyForcibly();

            CliRun.Result r = swap.get(120, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(r.code()).isNotZero();
            assertThat(r.err()).contains("the old worker " + oldId + " is left running and serves [" + TallyShard.SERVICE
                + "] again, filed again under [/tally/three]");
            assertThat(client.anchors().list("/tally/three").entries()).extracting(Entry::worker).containsExactly(oldId);
            Entry found = client.anchors().list("/tally/three").entries().getFirst();
            assertThat(client.anchors().worker(found).dial(TallyShard.SERVICE, TallyShard.class).version()).isEqualTo("v1");
        } finally {
            old.worker().kill();
        }
    }

    private static final List<String> KILLED_SHARDS = List.of("a", "b");

    /**
     * {@code circuit swap}, run in a JVM of its own, is killed (SIGKILL) once both replacements took over,
     * before it retired the old workers: no call fails, and the old workers finish the swap themselves (drain,
     * linger, retire). Before, they stayed for ever, forwarding and filed under the anchors beside their
     * replacements, and a second swap of the anchors failed on them ("serves no service to swap").
     */
    @Test
    @Timeout(400)
    void shouldHaveTheOldWorkersRetireThemselvesWhenTheSwapIsKilledAfterTheTakeOver(CircuitRuntime client) throws Exception {
        List<WorkerId> olds = new ArrayList<>();
        try {
            List<TallyShard> shards = new ArrayList<>();
            for (String s : KILLED_SHARDS) {
                var w = client.spawn(circuit.hosts().getFirst(), List.of(), () -> {
                    Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
                    Circuit.current().anchors().file("/killed/" + s);
                    return "up";
                }, SpawnOptions.defaults().daemonized());
                olds.add(w.worker().id());
                shards.add(w.worker().dial(TallyShard.SERVICE, TallyShard.class));
            }
            try (SwapLoad load = SwapLoad.onEach(shards)) {
                load.awaitMore(100);

                Process swap = swapInItsOwnJvm("swap", "/killed/...", "--jar", DemoSwapJar.locate().toString(), "--parallel", "2",
                    "--linger", "60");
                try {
                    // each replacement files itself under the old one's anchor just before the forward
                    await().atMost(Duration.ofSeconds(120)).until(() -> KILLED_SHARDS.stream().allMatch(s ->
                        filedAt(client, "/killed/" + s).stream().anyMatch(w -> !olds.contains(w))));
                } finally {
                    swap.destroyForcibly();
                    swap.waitFor();
                }

                await().atMost(Duration.ofSeconds(90)).until(() -> client.anchors().list("/worker").entries().stream()
                    .map(Entry::worker).noneMatch(olds::contains));
                for (String s : KILLED_SHARDS) {
                    assertThat(filedAt(client, "/killed/" + s)).as("filed under /killed/" + s).hasSize(1).doesNotContainAnyElementsOf(olds);
                }
                load.awaitMore(200);
                assertThat(load.stop()).isEmpty();
                long total = shards.get(0).count("k") + shards.get(1).count("k");
                assertThat(total).as("every count made it through").isEqualTo(load.added());
            }
            assertThat(shards).allSatisfy(shard -> assertThat(shard.version()).isEqualTo("v2"));

            CliRun.Result again = CliRun.run(Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper()), "swap", "/killed/...",
                "--deployment", "examples-v2", "--parallel", "2", "--linger", "0");
            assertThat(again.code()).as(again.err()).isZero();
        } finally {
            // the daemonized workers left: the replacements (and the old ones, when the test failed before they retired)
            for (String s : KILLED_SHARDS) {
                client.anchors().list("/killed/" + s).entries().forEach(e -> client.anchors().worker(e).kill());
            }
            client.anchors().list("/worker").entries().stream().filter(e -> olds.contains(e.worker()))
                .forEach(e -> client.anchors().worker(e).kill());
        }
    }

    private static List<WorkerId> filedAt(CircuitRuntime client, String dir) {
        return client.anchors().list(dir).entries().stream().map(Entry::worker).toList();
    }

    /** Runs {@code circuit args} in a JVM of its own, as {@code bin/circuit} would. */
    private static Process swapInItsOwnJvm(String... args) throws java.io.IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        return pb.start();
    }

    /** A second service beside the tally shard. */
    public interface Echo {
        String echo(String s);
    }

    /** One the new code cannot make: no constructor without arguments (and not in the new code at all). */
    public static final class PrefixEcho implements Echo {
        private final String prefix;

        public PrefixEcho(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public String echo(String s) {
            return prefix + s;
        }
    }

    /** The services each worker filed under {@code anchor} serves, by worker id. */
    private static Map<String, List<String>> servicesAt(CircuitRuntime client, String anchor) {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        for (Entry e : client.anchors().list(anchor).entries()) {
            out.put(e.worker().toString(), client.anchors().worker(e).dial(io.jcircuit.runtime.ops.Ops.SERVICE,
                io.jcircuit.runtime.ops.Ops.class).info().services());
        }
        return out;
    }

    /**
     * {@code --service NAME} on a worker that serves others too is refused: the old worker is drained and
     * retired once its services moved, and the others would go with it. (A probe found them served nowhere.)
     */
    @Test
    void shouldRefuseToSwapOneServiceOfAWorkerThatServesOthers(CircuitRuntime client) {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        var old = client.spawn(circuit.hosts().getFirst(), List.of("/tally/several"), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            Circuit.current().listen("zz.prefix", Echo.class, new PrefixEcho(">"));
            return "up";
        }, SpawnOptions.defaults().daemonized());
        try {
            CliRun.Result swap = CliRun.run(env, "swap", "/tally/several", "--jar", DemoSwapJar.locate().toString(),
                "--service", TallyShard.SERVICE, "--linger", "0");
            assertThat(swap.code()).isNotZero();
            assertThat(swap.err()).contains("also serves [zz.prefix]").contains("Swap them all");
            assertThat(servicesAt(client, "/tally/several")).containsOnlyKeys(old.worker().id().toString())
                .extractingByKey(old.worker().id().toString()).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
                .contains(TallyShard.SERVICE, "zz.prefix");

            // without --service: its second service cannot be taken over, and the first one comes back
            TallyShard shard = old.worker().dial(TallyShard.SERVICE, TallyShard.class);
            shard.add("k", 5);
            CliRun.Result all = CliRun.run(env, "swap", "/tally/several", "--jar", DemoSwapJar.locate().toString(),
                "--linger", "0");
            assertThat(all.code()).isNotZero();
            assertThat(all.err()).contains("service 'zz.prefix' could not be taken over")
                .contains("serves [" + TallyShard.SERVICE + "] again").contains("0 swapped, 1 left as they were");
            Map<String, List<String>> after = servicesAt(client, "/tally/several");
            assertThat(after).as("a swap said to leave it as it was").containsOnlyKeys(old.worker().id().toString());
            assertThat(after.get(old.worker().id().toString())).contains(TallyShard.SERVICE, "zz.prefix");
            assertThat(shard.version()).isEqualTo("v1");
            assertThat(shard.add("k", 1).count()).isEqualTo(6);
        } finally {
            old.worker().kill();
        }
    }

    @Test
    void shouldNameTheWorkersSwappedWhenAnotherOfTheRunFails(CircuitRuntime client) throws Exception {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        var good = client.spawn(circuit.hosts().getFirst(), List.of("/tally/part/a"), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            return "up";
        }, SpawnOptions.defaults().daemonized());
        var bad = client.spawn(circuit.hosts().getFirst(), List.of("/tally/part/b"), () -> {
            Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
            Circuit.current().listen("zz.prefix", Echo.class, new PrefixEcho(">")); // the new code cannot make it
            return "up";
        }, SpawnOptions.defaults().daemonized());
        String newA = null;
        try {
            CliRun.Result swap = CliRun.run(env, "swap", "/tally/part/...", "--jar", DemoSwapJar.locate().toString(),
                "--parallel", "2", "--linger", "0", "--json");

            assertThat(swap.code()).as(swap.err()).isEqualTo(1);
            newA = client.anchors().list("/tally/part/a").entries().getFirst().worker().toString();
            assertThat(newA).as("the first worker was swapped").isNotEqualTo(good.worker().id().toString());
            // what was swapped, what failed and why (before: no JSON at all, and only counts on stderr)
            assertThat(swap.out()).contains("\"old\":\"" + good.worker().id() + "\"", "\"new\":\"" + newA + "\"")
                .contains("\"failed\":[{\"worker\":\"" + bad.worker().id() + "\",\"error\":\"").contains("\"left\":[]")
                .contains("could not be taken over");
            assertThat(swap.err()).contains("swap stopped: " + bad.worker().id()).contains("1 swapped, 1 left as they were");
        } finally {
            bad.worker().kill();
            if (newA != null) {
                client.anchors().worker(client.anchors().list("/tally/part/a").entries().getFirst()).kill();
            }
        }
    }

    @Test
    void shouldRunTheSwapDemoWithoutAFailedCall() {
        CliRun.Result r = CliRun.run(Map.of(), "demo", "swap", "--shards", "2", "--clients", "4", "--before", "1", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"failed\":0").contains("\"counts_kept\":true").containsPattern("\"v1_calls\":[1-9]")
            .containsPattern("\"v2_calls\":[1-9]").contains("\"p99_before_ms\":").contains("\"p99_during_ms\":");
    }
}
