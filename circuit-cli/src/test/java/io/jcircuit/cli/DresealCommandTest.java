package io.jcircuit.cli;

import io.jcircuit.anchor.DurableSeal;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceConfig;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code circuit dreseal} against a runtime with an embedded ZooKeeper: values sealed before the seal covered a
 * value's kind, written here by hand as those builds wrote them, are sealed anew with it; values that are not
 * signed with the key for their path are named and left alone.
 */
class DresealCommandTest {

    @TempDir
    Path state;
    @TempDir
    Path keys;

    @Test
    void resealsTheValuesSealedWithoutTheirKindAndLeavesTheOthersAlone() {
        ClusterKey key = ClusterKey.generate();
        Path keyFile = keys.resolve("cluster.key"); // not the state directory's, which a command takes unasked
        key.writeTo(keyFile);
        try (CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(state).clusterKey(key).build());
             Namespace ns = Namespace.connect(NamespaceConfig.of(rt.embeddedZooKeeperConnectString().orElseThrow()))) {
            rt.durable().put("/app/new", 1);
            rt.durable().putBytes("/app/raw", new byte[] {1, 2});
            byte[] encoded = DurableSeal.payloadOf(payload(ns.get("/app/new").orElseThrow()));
            ns.put("/app/old", Namespace.KIND_SIGNED_OBJECT, oldSeal(key, "/app/old", encoded));
            byte[] record = "name=x\n".getBytes(StandardCharsets.UTF_8);
            ns.put("/app/deep/oldBytes", Namespace.KIND_SIGNED_BYTES, oldSeal(key, "/app/deep/oldBytes", record));
            ns.put("/app/copied", Namespace.KIND_SIGNED_OBJECT, oldSeal(key, "/app/old", encoded)); // sealed for another path
            ns.put("/other/old", Namespace.KIND_SIGNED_OBJECT, oldSeal(key, "/other/old", encoded));
            byte[] newBefore = ns.get("/app/new").orElseThrow();

            CliRun.Result r = CliRun.run(Map.of(), "dreseal", "--dir", state.toString(), "--key", keyFile.toString(), "/app/...");

            assertThat(r.out()).contains("re-sealed /app/old", "re-sealed /app/deep/oldBytes")
                .contains("2 re-sealed, 1 sealed with their kind already, 1 unsigned, 1 left as they were");
            assertThat(r.err()).contains("left /app/copied as it is").contains("not this circuit's cluster key's for this path");
            assertThat(r.code()).as("a value left as it was").isEqualTo(1);
            assertThat(payload(ns.get("/app/old").orElseThrow())[0]).isEqualTo(DurableSeal.KIND_BOUND);
            assertThat(payload(ns.get("/app/deep/oldBytes").orElseThrow())[0]).isEqualTo(DurableSeal.KIND_BOUND);
            assertThat(rt.durable().get("/app/old", Integer.class)).contains(1);
            assertThat(rt.durable().getBytes("/app/deep/oldBytes")).hasValue(record);
            assertThat(ns.get("/app/new").orElseThrow()).as("sealed with its kind already: not rewritten").isEqualTo(newBefore);
            assertThat(ns.get("/app/raw").orElseThrow()).containsExactly(Namespace.KIND_BYTES, 1, 2);
            assertThat(payload(ns.get("/other/old").orElseThrow())[0]).as("outside PATH").isNotEqualTo(DurableSeal.KIND_BOUND);

            CliRun.Result again = CliRun.run(Map.of(), "dreseal", "--dir", state.toString(), "--key", keyFile.toString(), "/other/old");
            assertThat(again.out()).contains("re-sealed /other/old").contains("1 re-sealed, 0 sealed with their kind already");
            assertThat(again.code()).isZero();
            assertThat(rt.durable().get("/other/old", Integer.class)).contains(1);

            CliRun.Result keyless = CliRun.run(Map.of(), "dreseal", "--dir", state.toString(), "/app/...");
            assertThat(keyless.code()).isEqualTo(1);
            assertThat(keyless.err()).contains("no cluster key");
        }
    }

    /** A stored value without its kind byte. */
    private static byte[] payload(byte[] data) {
        return Arrays.copyOfRange(data, 1, data.length);
    }

    /** {@code payload} sealed as builds before the kind was bound sealed it: signature length, signature, payload. */
    private static byte[] oldSeal(ClusterKey key, String path, byte[] payload) {
        byte[] sig = key.sign(path.getBytes(StandardCharsets.UTF_8), new byte[] {0}, payload);
        byte[] sealed = new byte[1 + sig.length + payload.length];
        sealed[0] = (byte) sig.length;
        System.arraycopy(sig, 0, sealed, 1, sig.length);
        System.arraycopy(payload, 0, sealed, 1 + sig.length, payload.length);
        return sealed;
    }
}
