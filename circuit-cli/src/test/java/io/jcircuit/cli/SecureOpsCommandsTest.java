package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.Spawned;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** The ops verbs against a circuit whose links speak mutual TLS: the key lets them in, nothing else does. */
@Tag("slow")
@Timeout(120)
class SecureOpsCommandsTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1).secured();

    @Test
    void shouldReachAWorkerWithTheClusterKeyAndBeRefusedWithout(CircuitRuntime client, @TempDir Path empty) {
        Spawned<Supplier> w = client.spawn(circuit.hosts().getFirst(), List.of("/sealed"),
            () -> Circuit.current().ref(Supplier.class, () -> "inside"));
        String key = circuit.keyFile().orElseThrow().toString();
        // an empty state directory: no key is found unless --key names one
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper(), "CIRCUIT_DIR", empty.toString());

        CliRun.Result peek = CliRun.run(env, "peek", "--key", key, "/sealed");
        assertThat(peek.code()).as(peek.err()).isZero();
        assertThat(peek.out()).contains(w.worker().id().toString()).contains("/sealed");
        CliRun.Result stack = CliRun.run(env, "stack", "--key", key, "/sealed");
        assertThat(stack.code()).as(stack.err()).isZero();
        assertThat(stack.out()).contains("=== " + w.worker().id());

        CliRun.Result refused = CliRun.run(env, "peek", "/sealed");
        assertThat(refused.code()).isNotZero();
        assertThat(refused.err()).contains(w.worker().id().toString()).contains("same cluster key");
        assertThat(refused.out()).doesNotContain("services");

        // before, kill took the refusal for the worker's exit, waited 15 s, and said it had been told to exit
        CliRun.Result notKilled = CliRun.run(env, "kill", w.worker().id().toString());
        assertThat(notKilled.code()).isEqualTo(1);
        assertThat(notKilled.err()).contains(w.worker().id().toString()).contains("same cluster key")
            .doesNotContain("was told to exit");
        assertThat(client.anchors().list("/sealed").entries()).extracting(e -> e.worker()).contains(w.worker().id());
    }

    @Test
    void shouldSayAtOnceThatAHostCannotBeAskedToStopWithoutTheKey(@TempDir Path empty) {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper(), "CIRCUIT_DIR", empty.toString());
        String host = circuit.hosts().getFirst();
        // before, this waited 30 s for the host to leave, then said it had been asked but was still there
        CliRun.Result r = CliRun.run(env, "stop", host);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("cannot ask host " + host + " to stop").contains("same cluster key");
        assertThat(CliRun.run(env, "hosts").out()).contains(host);
    }

    @Test
    void shouldRefuseToServeAConsoleWithoutTheHostsKey(@TempDir Path empty) {
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper(), "CIRCUIT_DIR", empty.toString());
        // before, it served a page on which every worker was red, and said why only in each one's details
        CliRun.Result r = CliRun.run(env, "console", "--port", "0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("circuit console: host ").contains("of this circuit runs with cluster key")
            .contains("and this console without one");
    }
}
