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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code circuit swap} whose process is killed (SIGKILL) in the middle of a run, in a JVM of its own. */
@Tag("slow")
@Timeout(400)
class SwapKilledTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    private static final List<String> SHARDS = List.of("a", "b");

    /**
     * Killed once both replacements took over, before it retired the old workers: no call fails, and the old
     * workers finish the swap themselves (drain, linger, retire). Before, they stayed for ever, forwarding and
     * filed under the anchors beside their replacements, and a second swap of the anchors failed on them
     * ("serves no service to swap").
     */
    @Test
    void shouldHaveTheOldWorkersRetireThemselvesWhenTheSwapIsKilledAfterTheTakeOver(CircuitRuntime client) throws Exception {
        List<WorkerId> olds = new ArrayList<>();
        List<TallyShard> shards = new ArrayList<>();
        for (String s : SHARDS) {
            var w = client.spawn(circuit.hosts().getFirst(), List.of(), () -> {
                Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
                Circuit.current().anchors().file("/killed/" + s);
                return "up";
            }, SpawnOptions.defaults().daemonized());
            olds.add(w.worker().id());
            shards.add(w.worker().dial(TallyShard.SERVICE, TallyShard.class));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong added = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(shards.size());
        for (TallyShard shard : shards) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (!stop.get()) {
                        shard.add("k", 1);
                        added.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    done.countDown();
                }
            });
        }
        await().until(() -> added.get() > 100);

        Process swap = swapInItsOwnJvm("swap", "/killed/...", "--jar", DemoSwapJar.locate().toString(), "--parallel", "2",
            "--linger", "60");
        try {
            // each replacement files itself under the old one's anchor just before the forward
            await().atMost(Duration.ofSeconds(120)).until(() -> SHARDS.stream().allMatch(s ->
                filedAt(client, "/killed/" + s).stream().anyMatch(w -> !olds.contains(w))));
        } finally {
            swap.destroyForcibly();
            swap.waitFor();
        }

        await().atMost(Duration.ofSeconds(90)).until(() -> client.anchors().list("/worker").entries().stream()
            .map(Entry::worker).noneMatch(olds::contains));
        for (String s : SHARDS) {
            assertThat(filedAt(client, "/killed/" + s)).as("filed under /killed/" + s).hasSize(1).doesNotContainAnyElementsOf(olds);
        }
        long at = added.get();
        await().until(() -> added.get() > at + 200);
        stop.set(true);
        done.await();
        assertThat(failures).isEmpty();
        long total = shards.get(0).count("k") + shards.get(1).count("k");
        assertThat(total).as("every count made it through").isEqualTo(added.get());
        assertThat(shards).allSatisfy(shard -> assertThat(shard.version()).isEqualTo("v2"));

        CliRun.Result again = CliRun.run(Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper()), "swap", "/killed/...",
            "--deployment", "examples-v2", "--parallel", "2", "--linger", "0");
        assertThat(again.code()).as(again.err()).isZero();
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
}
