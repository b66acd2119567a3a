package io.jcircuit.runtime;

import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceConfig;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.host.Deployment;
import io.jcircuit.runtime.host.Deployments;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The durable store lives in ZooKeeper, which anyone who reaches it can write: runtimes with the
 * cluster key sign what they put and decode only what carries the key's signature for its path, and
 * so for the deployment records that say which jar a worker runs.
 */
class DurableSealTest {

    private static TestingServer zk;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    private static CircuitRuntime start(ClusterKey key) {
        return CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.getConnectString()).clusterKey(key).build());
    }

    @Test
    void aRuntimeWithTheKeyDecodesOnlyValuesSignedWithItForTheirPath() throws Exception {
        ClusterKey key = ClusterKey.generate();
        try (CircuitRuntime a = start(key); CircuitRuntime b = start(key); CircuitRuntime plain = start(null);
             CuratorFramework raw = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            a.durable().put("/cfg/limit", 42);
            assertThat(b.durable().get("/cfg/limit", Integer.class)).contains(42);
            assertThat(b.durable().list("/cfg").entries()).singleElement().satisfies(s -> assertThat(s.object()).isTrue());

            // put by a runtime without the key, as anyone who can write to ZooKeeper could
            plain.durable().put("/cfg/forged", 7);
            assertThatThrownBy(() -> b.durable().get("/cfg/forged", Integer.class)).isInstanceOf(SecurityException.class)
                .hasMessageContaining("'/cfg/forged' is not signed with the cluster key");

            // a signed value copied to another path, and one changed after it was signed
            String znode = "/jcircuit/durable/cfg/limit";
            byte[] signed = raw.getData().forPath(znode);
            raw.create().forPath("/jcircuit/durable/cfg/copied", signed);
            assertThatThrownBy(() -> b.durable().get("/cfg/copied", Integer.class)).isInstanceOf(SecurityException.class)
                .hasMessageContaining("not this circuit's cluster key's for this path");
            byte[] changed = signed.clone();
            changed[changed.length - 1] ^= 1;
            raw.setData().forPath(znode, changed);
            assertThatThrownBy(() -> b.durable().get("/cfg/limit", Integer.class)).isInstanceOf(SecurityException.class);

            // another circuit's key
            try (CircuitRuntime stranger = start(ClusterKey.generate())) {
                stranger.durable().put("/cfg/theirs", 1);
            }
            assertThatThrownBy(() -> b.durable().get("/cfg/theirs", Integer.class)).isInstanceOf(SecurityException.class);
            // a runtime without a key checks nothing, and reads signed values as it reads its own
            assertThat(plain.durable().get("/cfg/theirs", Integer.class)).contains(1);
        }
    }

    @Test
    void aDeploymentRecordIsTakenOnlyWhenSignedWithTheKeyForItsPath() throws Exception {
        ClusterKey key = ClusterKey.generate();
        try (Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString())); CircuitRuntime plain = start(null)) {
            Deployments keyed = new Deployments(ns, key);
            Deployments keyless = new Deployments(ns, null);
            Deployment v1 = deployment(1, "11");
            assertThat(keyed.create(v1)).isTrue();
            assertThat(keyed.create(v1)).as("a version is written once").isFalse();
            assertThat(keyed.resolve("shop:1")).isEqualTo(v1);
            assertThat(keyless.resolve("shop")).as("a runtime without the key reads signed records unchecked").isEqualTo(v1);
            assertThat(plain.durable().getBytes(v1.path())).as("without its seal").hasValue(v1.encode());

            // version 2 pointed at version 1's jar by someone without the key, as anyone who can write to ZooKeeper could
            Deployment forged = deployment(2, "11");
            plain.durable().putBytes(forged.path(), forged.encode());
            assertThatThrownBy(() -> keyed.resolve("shop:2")).isInstanceOf(SecurityException.class)
                .hasMessageContaining("deployment shop:2 was not written with this cluster's key")
                .hasMessageContaining("'/deployments/shop/2' is not signed").hasMessageContaining("deploy its jar again");
            assertThatThrownBy(() -> keyed.resolve("shop")).as("the latest is refused, not passed over for an older one")
                .isInstanceOf(SecurityException.class).hasMessageContaining("deployment shop:2");
            assertThat(keyed.resolve("shop:1")).isEqualTo(v1);
            Deployments.Listed listed = keyed.versions("shop");
            assertThat(listed.deployments()).containsExactly(v1);
            assertThat(listed.refused()).extracting(Deployments.Refused::label).containsExactly("shop:2");
            assertThat(listed.labels()).containsExactly("shop:1", "shop:2");
            assertThat(keyless.resolve("shop:2")).as("a runtime without the key checks nothing").isEqualTo(forged);

            // a signed record copied to another version's path, and one read with another circuit's key
            byte[] signed = ns.get(v1.path()).orElseThrow();
            ns.put("/deployments/shop/3", signed[0], Arrays.copyOfRange(signed, 1, signed.length));
            assertThatThrownBy(() -> keyed.resolve("shop:3")).isInstanceOf(SecurityException.class)
                .hasMessageContaining("deployment shop:3 was not written with this cluster's key")
                .hasMessageContaining("not this circuit's cluster key's for this path");
            assertThatThrownBy(() -> new Deployments(ns, ClusterKey.generate()).resolve("shop:1"))
                .isInstanceOf(SecurityException.class);
        }
    }

    /** Version {@code version} of the deployment {@code shop}, of a jar whose hash is {@code hex} repeated. */
    private static Deployment deployment(int version, String hex) {
        return new Deployment("shop", version, hex.repeat(32), 1234, "shop.jar", Instant.parse("2025-01-02T03:04:05Z"), "");
    }
}
