package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.HostService;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A circuit with a cluster key: hosts, spawned workers and clients all on mutual TLS. */
@Tag("slow")
class SecureCircuitTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1).secured();

    /**
     * The refusals tested here come at once; a connect timeout this long only keeps a slow first handshake
     * of a cold JVM from failing with "deadline passed while dialing" instead (2 s was tight on a slow VM).
     */
    private static final int CONNECT_TIMEOUT_MS = 15_000;

    @Test
    void shouldSpawnAndCallWorkersOverTls(Circuit client) {
        assertThat(circuit.keyFile()).isPresent();
        Spawned<WorkerId> s = client.spawn("host-1", List.of(), () -> Circuit.current().id());
        assertThat(s.result()).isEqualTo(s.worker().id());
        long pid = s.worker().go(() -> ProcessHandle.current().pid());
        assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
    }

    @Test
    void shouldRefuseAClientWithoutTheKey() {
        try (CircuitRuntime plain = CircuitRuntime.start(RuntimeConfig.builder().connectTimeoutMs(CONNECT_TIMEOUT_MS).build())) {
            var host = circuit.host("host-1");
            assertThatThrownBy(() -> plain.worker(host.address()).dial(HostService.SERVICE, HostService.class))
                .isInstanceOf(WorkerDiedException.class)
                .hasCauseInstanceOf(io.jcircuit.link.HandshakeFailedException.class)
                .hasMessageContaining("closed during the handshake")
                .hasMessageContaining("does the peer run with the same cluster key as this side (it has none)?");
        }
    }

    @Test
    void shouldTellAKeyedClientThatAPlainRuntimeRefusedItsHandshake() {
        try (CircuitRuntime plainServer = CircuitRuntime.start(RuntimeConfig.builder().build());
             CircuitRuntime keyed = CircuitRuntime.start(RuntimeConfig.builder().connectTimeoutMs(CONNECT_TIMEOUT_MS)
                 .clusterKey(io.jcircuit.link.tls.ClusterKey.generate()).build())) {
            plainServer.listen("x", Runnable.class, () -> { });
            assertThatThrownBy(() -> keyed.worker(plainServer.address()).dial("x", Runnable.class))
                .isInstanceOf(WorkerDiedException.class)
                .hasCauseInstanceOf(io.jcircuit.link.HandshakeFailedException.class)
                .hasMessageContaining("(it has one)?");
        }
    }

    @Test
    void shouldRefuseAClientWithAnotherClustersKey() {
        RuntimeConfig other = RuntimeConfig.builder().connectTimeoutMs(CONNECT_TIMEOUT_MS)
            .clusterKey(io.jcircuit.link.tls.ClusterKey.generate()).build();
        try (CircuitRuntime stranger = CircuitRuntime.start(other)) {
            var host = circuit.host("host-1");
            assertThatThrownBy(() -> stranger.worker(host.address()).dial(HostService.SERVICE, HostService.class))
                .isInstanceOf(WorkerDiedException.class)
                .hasCauseInstanceOf(io.jcircuit.link.HandshakeFailedException.class)
                .hasMessageContaining("the two sides run with different cluster keys");
        }
    }
}
