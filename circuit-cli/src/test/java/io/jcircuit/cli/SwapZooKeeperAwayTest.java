package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.EmbeddedZooKeeper;
import io.jcircuit.examples.swap.TallyShard;
import io.jcircuit.examples.swap.TallyShardImpl;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code circuit swap} with ZooKeeper stopped between the replacement's filing and the old worker's drain,
 * for longer than the sessions' timeout: the swap needs no ZooKeeper from there on and finishes, no call
 * fails, and once ZooKeeper is back the anchor holds the replacement alone and the old worker has exited
 * (it waits for its forwarding record, written once ZooKeeper is back).
 */
@Tag("slow")
@Timeout(300)
class SwapZooKeeperAwayTest {

    /**
     * The old worker's namespace operations are tried once while ZooKeeper is away, not again 3 times
     * ({@code RuntimeConfig.zookeeperRetries}): the swap waited on the old worker while it tried them again
     * (its drain withdraws its anchor while ZooKeeper is stopped), about 4 s more of the outage. An anchor
     * withdrawn while ZooKeeper is away is removed once it is back all the same, which the test checks.
     */
    private static final String OLD_WORKER_RETRIES = "-Dcircuit.zookeeper.retries=0";

    @Test
    void shouldFinishASwapWhoseZooKeeperGoesAwayAfterTheReplacementFiledWithoutAFailedCall(@TempDir Path zkDir,
                                                                                         @TempDir Path state) throws Exception {
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(zkDir, 0);
        java.util.List<Long> daemons = new java.util.concurrent.CopyOnWriteArrayList<>(); // outlive the host: ended below
        int port = zk.port();
        String connect = zk.connectString();
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", connect);
        try (HostDaemon host = HostDaemon.start(new HostDaemon.Config("zkaway", state, connect, null, 0, 0));
             CircuitRuntime client = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(connect).build())) {
            CliRun.Result deploy = CliRun.run(env, "deploy", DemoSwapJar.locate().toString(), "--name", "tally");
            assertThat(deploy.code()).as(deploy.err()).isZero();
            var old = client.spawn("zkaway", List.of(), () -> {
                Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
                Circuit.current().anchors().file("/zk/one");
                return "up";
            }, SpawnOptions.defaults().daemonized().withJvmArgs(OLD_WORKER_RETRIES));
            WorkerId oldId = old.worker().id();
            long oldPid = client.anchors().list("/zk/one").entries().getFirst().pid();
            daemons.add(oldPid);
            TallyShard shard = old.worker().dial(TallyShard.SERVICE, TallyShard.class);
            try (SwapLoad load = SwapLoad.on(shard, 2)) {
                load.awaitMore(100);

                CompletableFuture<CliRun.Result> swap = CompletableFuture.supplyAsync(() ->
                    CliRun.run(env, "swap", "/zk/one", "--deployment", "tally", "--linger", "5"), r -> Thread.ofVirtual().start(r));
                // the replacement files itself under the anchor just before the forward; the drain comes after
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).until(() ->
                    client.anchors().list("/zk/one").entries().stream().anyMatch(e -> !e.worker().equals(oldId)));
                zk.close();
                // away for the linger (5 s) at least: past the sessions' timeout (4 s)
                await().atMost(Duration.ofSeconds(120)).until(swap::isDone);
                CliRun.Result r = swap.join();
                load.awaitMore(200);
                zk = EmbeddedZooKeeper.start(zkDir, port);
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> client.anchors().list("/zk/one").entries()
                    .stream().filter(e -> !e.worker().equals(oldId)).peek(e -> daemons.add(e.pid())).count() > 0);

                assertThat(r.code()).as(r.err()).isZero();
                assertThat(r.out()).contains("swapped " + oldId + " -> ");
                await().atMost(Duration.ofSeconds(60)).until(() -> ProcessHandle.of(oldPid).map(p -> !p.isAlive()).orElse(true));
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> client.anchors().list("/zk/one").entries()
                    .stream().map(Entry::worker).toList(), l -> l.size() == 1 && !l.contains(oldId));
                load.awaitMore(200);
                assertThat(load.stop()).isEmpty();
                assertThat(shard.count("k")).as("every count made it through").isEqualTo(load.added());
            }
            assertThat(shard.version()).isEqualTo("v2");
        } finally {
            zk.close();
            // the old worker and its replacement are daemonized: the host's stop leaves them running
            daemons.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }
}
