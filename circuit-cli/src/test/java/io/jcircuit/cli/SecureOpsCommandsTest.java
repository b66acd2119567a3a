package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.Deployment;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The ops verbs against a circuit whose links speak mutual TLS: the key lets them in, nothing else does;
 * and deployments, whose records only the key's holders write.
 */
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
        // and says what its entry says of the host's key, where the link could only ask (a probe's read a question)
        assertThat(r.err()).contains("cannot ask host " + host + " to stop: host " + host + " of this circuit runs with cluster key")
            .contains("and this command without one");
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

    /**
     * A deployment record decides which jar a worker runs. One written without the key (anyone who can
     * write to ZooKeeper) re-points app:2 at the jar of app:1: a key holder's spawn, swap and listing
     * refuse it, say why, and a deploy with the key records the jar again under a version of its own.
     */
    @Test
    void shouldRefuseADeploymentRecordNotWrittenWithTheClusterKey(CircuitRuntime client, @TempDir Path dir, @TempDir Path empty)
        throws Exception {
        Path v1 = DeployCommandTest.appJar(dir.resolve("v1"), "app-1.0.jar", "1.0", "hello from v1");
        Path v2 = DeployCommandTest.appJar(dir.resolve("v2"), "app-2.0.jar", "2.0", "hello from v2");
        Map<String, String> env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper(), "CIRCUIT_DIR", empty.toString(),
            "CIRCUIT_KEY", circuit.keyFile().orElseThrow().toString());
        assertThat(CliRun.run(env, "deploy", v1.toString()).out()).contains("as app:1");
        assertThat(CliRun.run(env, "deploy", v2.toString()).out()).contains("as app:2");
        try (CircuitRuntime noKey = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(circuit.zookeeper()).build())) {
            Deployment forged = new Deployment("app", 2, ClasspathJars.sha256(v1), Files.size(v1), "app-2.0.jar",
                Instant.now(), "2.0");
            noKey.durable().putBytes(forged.path(), forged.encode());
        }
        String host = circuit.hosts().getFirst();

        for (String selector : List.of("app:2", "app")) {
            // before, app:2 ran v1's code, filed as code=app:2
            assertThatThrownBy(() -> client.spawn(host, List.of("/forged"), DeployCommandTest::greeter,
                SpawnOptions.defaults().withDeployment(selector))).isInstanceOf(SecurityException.class)
                .hasMessageContaining("deployment app:2 was not written with this cluster's key");
        }
        CliRun.Result list = CliRun.run(env, "deploy", "--list");
        assertThat(list.code()).isEqualTo(1);
        assertThat(list.out()).contains("app:1").doesNotContain("app:2");
        assertThat(list.err()).contains("refused /deployments/app/2").contains("not written with this cluster's key");
        assertThat(CliRun.run(env, "deploy", "--list", "--json", "app").out())
            .contains("\"label\":\"app:1\"").contains("\"refused\":[{\"path\":\"/deployments/app/2\"");
        CliRun.Result swap = CliRun.run(env, "swap", "/forged/...", "--deployment", "app:2");
        assertThat(swap.code()).isEqualTo(1);
        assertThat(swap.err()).contains("--deployment app:2: deployment app:2 was not written with this cluster's key");

        // deployed again with the key, the jar gets the next version; the refused record keeps its number
        assertThat(CliRun.run(env, "deploy", v2.toString()).out()).contains("deployed app-2.0.jar as app:3");
        Spawned<Supplier<String>> latest = client.spawn(host, List.of("/redeployed"), DeployCommandTest::greeter,
            SpawnOptions.defaults().withDeployment("app"));
        assertThat(latest.result().get()).isEqualTo("hello from v2");
    }
}
