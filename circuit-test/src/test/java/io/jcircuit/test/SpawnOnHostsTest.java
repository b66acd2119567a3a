package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.host.HostService;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The extension as users write it: a static local circuit of two hosts, shared by the class, spawning real JVMs. */
@Tag("slow")
class SpawnOnHostsTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(2);

    /** Where a spawned function ran. */
    record Ran(WorkerId worker, long pid) {
    }

    @Test
    void shouldStartTwoHostsOnOneZooKeeper(Circuit client) {
        assertThat(circuit.hosts()).containsExactly("host-1", "host-2");
        assertThat(circuit.host("host-2").zookeeper()).isEqualTo(circuit.zookeeper());
        assertThat(circuit.stateDir().resolve("host-1").resolve("zookeeper")).isDirectory();
        assertThat(client.anchors().listAll("/host").entries())
            .filteredOn(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY)))
            .extracting(Entry::dir, Entry::worker)
            .containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("/host/host-1", circuit.host("host-1").runtime().id()),
                org.assertj.core.groups.Tuple.tuple("/host/host-2", circuit.host("host-2").runtime().id()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"host-1", "host-2"})
    void shouldSpawnOnTheNamedHostAndFileTheWorkerUnderIt(String host, Circuit client) {
        String anchor = "/spawned/" + host;
        Spawned<Ran> s = client.spawn(host, List.of(anchor),
            () -> new Ran(Circuit.current().id(), ProcessHandle.current().pid()),
            SpawnOptions.defaults().daemonized()); // stays after its function, so the test can look at it

        assertThat(s.result().worker()).isEqualTo(s.worker().id());
        assertThat(s.result().pid()).isNotEqualTo(ProcessHandle.current().pid());
        assertThat(client.anchors().list("/host/" + host).entries())
            .filteredOn(e -> e.worker().equals(s.worker().id()))
            .singleElement().satisfies(e -> assertThat(e.pid()).isEqualTo(s.result().pid()));
        assertThat(client.anchors().list(anchor).entries()).extracting(Entry::worker).containsExactly(s.worker().id());
        String other = host.equals("host-1") ? "host-2" : "host-1";
        assertThat(client.anchors().list("/host/" + other).entries()).extracting(Entry::worker)
            .doesNotContain(s.worker().id());
        assertThat(circuit.stateDir().resolve(host).resolve("workers").resolve(s.worker().id().toString())).isDirectory();
        s.worker().kill();
    }

    @Test
    void shouldSpawnOnAnyHost(Circuit client) {
        Spawned<Integer> s = client.spawn(Circuit.ANY_HOST, List.of(), () -> 6 * 7, SpawnOptions.defaults().daemonized());

        assertThat(s.result()).isEqualTo(42);
        assertThat(client.anchors().listAll("/host").entries())
            .filteredOn(e -> e.worker().equals(s.worker().id()))
            .singleElement().extracting(Entry::dir).isIn("/host/host-1", "/host/host-2");
        s.worker().kill();
    }

    @Test
    void shouldSpreadSpawnsMadeTogetherOnAnyHost(Circuit client) throws Exception {
        // the other tests' workers have gone: both hosts are idle
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> client.anchors().listAll("/host")
            .entries().stream().noneMatch(e -> HostService.ROLE_WORKER.equals(e.metadata().get(HostService.ROLE_KEY))));
        List<Spawned<Integer>> spawned = new java.util.ArrayList<>();
        try (var together = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = java.util.stream.IntStream.range(0, 4).mapToObj(i -> together.submit(() ->
                client.spawn(Circuit.ANY_HOST, List.of(), () -> 1, SpawnOptions.defaults().daemonized()))).toList();
            for (var f : futures) {
                spawned.add(f.get());
            }
        }
        try {
            List<String> placed = spawned.stream().map(s -> client.anchors().listAll("/host").entries().stream()
                .filter(e -> e.worker().equals(s.worker().id())).map(Entry::dir).findFirst().orElse("?")).toList();
            assertThat(placed).as("where four spawns made together on two idle hosts went").contains("/host/host-1", "/host/host-2");
        } finally {
            spawned.forEach(s -> s.worker().kill());
        }
    }

    @Test
    void shouldHandOutTheExtensionItself(LocalCircuit injected) {
        assertThat(injected).isSameAs(circuit);
    }

    @Test
    void shouldListTheHostsWhenAskedForAnUnknownOne() {
        assertThatThrownBy(() -> circuit.host("host-9")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("'host-9'").hasMessageContaining("[host-1, host-2]");
    }
}
