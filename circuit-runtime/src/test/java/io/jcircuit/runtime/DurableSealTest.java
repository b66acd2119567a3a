package io.jcircuit.runtime;

import io.jcircuit.link.tls.ClusterKey;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The durable store lives in ZooKeeper, which anyone who reaches it can write: runtimes with the
 * cluster key sign what they put and decode only what carries the key's signature for its path.
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
}
