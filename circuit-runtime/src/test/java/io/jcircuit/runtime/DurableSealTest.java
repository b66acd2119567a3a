package io.jcircuit.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jcircuit.anchor.DurableSeal;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceConfig;
import io.jcircuit.anchor.NamespaceDurable;
import io.jcircuit.anchor.SignedBytes;
import io.jcircuit.anchor.ValueCodec;
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
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

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

    @Test
    void aSignedValueRelabelledAsTheOtherSignedKindIsRefusedBeforeDecoding() throws Exception {
        ClusterKey key = ClusterKey.generate();
        AtomicInteger decoded = new AtomicInteger();
        try (Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString())); CircuitRuntime a = start(key);
             CuratorFramework raw = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            // a store whose codec counts what it is asked to decode
            NamespaceDurable counted = new NamespaceDurable(ns, new ValueCodec() {
                @Override
                public byte[] encode(Object value) {
                    return value.toString().getBytes(StandardCharsets.UTF_8);
                }

                @Override
                public Object decode(byte[] bytes) {
                    decoded.incrementAndGet();
                    return new String(bytes, StandardCharsets.UTF_8);
                }
            }, new ClusterSeal(key));

            // a deployment record (signed bytes) relabelled as a signed object
            Deployment v1 = new Deployment("relabel", 1, "22".repeat(32), 1234, "relabel.jar", Instant.parse("2025-01-02T03:04:05Z"), "");
            String record = v1.path();
            assertThat(new Deployments(ns, key).create(v1)).isTrue();
            byte[] asObject = raw.getData().forPath("/jcircuit/durable" + record);
            assertThat(asObject[0]).isEqualTo(Namespace.KIND_SIGNED_BYTES);
            asObject[0] = Namespace.KIND_SIGNED_OBJECT;
            raw.setData().forPath("/jcircuit/durable" + record, asObject);
            assertThatThrownBy(() -> counted.get(record, Object.class)).isInstanceOf(SecurityException.class)
                .hasMessageContaining("'" + record + "' refused before decoding")
                .hasMessageContaining("stored as a signed object but was signed as signed bytes");
            assertThatThrownBy(() -> a.durable().get(record, Object.class)).isInstanceOf(SecurityException.class)
                .hasMessageContaining("was signed as signed bytes");
            assertThat(decoded).as("nothing was decoded").hasValue(0);

            // a signed object relabelled as signed bytes
            a.durable().put("/relabel/obj", "hello");
            byte[] asBytes = raw.getData().forPath("/jcircuit/durable/relabel/obj");
            assertThat(asBytes[0]).isEqualTo(Namespace.KIND_SIGNED_OBJECT);
            asBytes[0] = Namespace.KIND_SIGNED_BYTES;
            raw.setData().forPath("/jcircuit/durable/relabel/obj", asBytes);
            assertThatThrownBy(() -> a.durable().getBytes("/relabel/obj")).isInstanceOf(SecurityException.class)
                .hasMessageContaining("stored as signed bytes but was signed as a signed object");
            assertThatThrownBy(() -> new SignedBytes(ns, new ClusterSeal(key)).get("/relabel/obj"))
                .isInstanceOf(SecurityException.class).hasMessageContaining("stored as signed bytes but was signed as a signed object");
        }
    }

    @Test
    void aValueSealedBeforeTheKindWasBoundIsReadWithOneWarningAndSealedAnewWhenPut() throws Exception {
        ClusterKey key = ClusterKey.generate();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(ClusterSeal.class);
        log.start();
        logger.addAppender(log);
        try (Namespace ns = Namespace.connect(NamespaceConfig.of(zk.getConnectString()));
             CircuitRuntime a = start(key); CircuitRuntime b = start(key); CircuitRuntime plain = start(null);
             CuratorFramework raw = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            // objects sealed as builds before the kind was bound sealed them, written by hand
            a.durable().put("/old/limit", 42);
            byte[] encoded42 = DurableSeal.payloadOf(stripKind(raw.getData().forPath("/jcircuit/durable/old/limit")));
            raw.setData().forPath("/jcircuit/durable/old/limit", oldSeal(key, "/old/limit", Namespace.KIND_SIGNED_OBJECT, encoded42));
            raw.create().forPath("/jcircuit/durable/old/other", oldSeal(key, "/old/other", Namespace.KIND_SIGNED_OBJECT, encoded42));
            assertThat(b.durable().get("/old/limit", Integer.class)).contains(42);
            assertThat(b.durable().get("/old/other", Integer.class)).contains(42);
            assertThat(b.durable().get("/old/limit", Integer.class)).contains(42);
            assertThat(plain.durable().get("/old/limit", Integer.class)).as("a runtime without the key reads it too").contains(42);
            assertThat(log.list).filteredOn(e -> e.getLevel() == Level.WARN).singleElement().satisfies(e -> assertThat(
                e.getFormattedMessage()).contains("'/old/limit'").contains("sealed anew when it is next put").contains("circuit dreseal"));
            // still bound to its path
            raw.create().forPath("/jcircuit/durable/old/copied", raw.getData().forPath("/jcircuit/durable/old/limit"));
            assertThatThrownBy(() -> b.durable().get("/old/copied", Integer.class)).isInstanceOf(SecurityException.class)
                .hasMessageContaining("not this circuit's cluster key's for this path");

            b.durable().put("/old/limit", 43);
            byte[] resealed = raw.getData().forPath("/jcircuit/durable/old/limit");
            assertThat(resealed[1]).as("sealed with its kind bound").isEqualTo(DurableSeal.KIND_BOUND);
            assertThat(a.durable().get("/old/limit", Integer.class)).contains(43);
            assertThat(plain.durable().get("/old/limit", Integer.class)).as("a runtime without the key reads the new seal").contains(43);

            // a deployment record sealed so: taken, and sealed anew when put again
            Deployment v1 = new Deployment("old", 1, "33".repeat(32), 1234, "old.jar", Instant.parse("2025-01-02T03:04:05Z"), "");
            raw.create().creatingParentsIfNeeded().forPath("/jcircuit/durable" + v1.path(),
                oldSeal(key, v1.path(), Namespace.KIND_SIGNED_BYTES, v1.encode()));
            Deployments keyed = new Deployments(ns, key);
            assertThat(keyed.resolve("old:1")).isEqualTo(v1);
            assertThat(new Deployments(ns, null).resolve("old:1")).isEqualTo(v1);
            new SignedBytes(ns, new ClusterSeal(key)).put(v1.path(), v1.encode());
            assertThat(raw.getData().forPath("/jcircuit/durable" + v1.path())[1]).isEqualTo(DurableSeal.KIND_BOUND);
            assertThat(keyed.resolve("old:1")).isEqualTo(v1);
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void anOldSealIsNotTakenForOneThatCoversTheKind() throws Exception {
        // Old seals sign the path, a zero byte and the payload. Were new ones to sign the path, a zero byte, the
        // kind and the payload, an old seal of bytes that start with a kind byte would check out as a new seal of
        // the rest, of that kind: a key holder's bytes reframed, by anyone who can write to ZooKeeper, as an object.
        ClusterKey key = ClusterKey.generate();
        try (CircuitRuntime a = start(key);
             CuratorFramework raw = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            a.durable().put("/reframe/template", 42);
            byte[] encoded42 = DurableSeal.payloadOf(stripKind(raw.getData().forPath("/jcircuit/durable/reframe/template")));
            byte[] bytes = new byte[1 + encoded42.length];
            bytes[0] = Namespace.KIND_SIGNED_OBJECT;
            System.arraycopy(encoded42, 0, bytes, 1, encoded42.length);
            byte[] old = oldSeal(key, "/reframe/v", Namespace.KIND_SIGNED_BYTES, bytes);
            int sigLength = old[1] & 0xff;
            // reframed: the kind byte of an object, the mark of a new seal, the old signature, and the rest of the bytes
            byte[] reframed = new byte[old.length]; // one byte more for the mark, one less for the kind byte moved into the signed part
            reframed[0] = Namespace.KIND_SIGNED_OBJECT;
            reframed[1] = DurableSeal.KIND_BOUND;
            System.arraycopy(old, 1, reframed, 2, 1 + sigLength);
            System.arraycopy(encoded42, 0, reframed, 3 + sigLength, encoded42.length);
            raw.create().forPath("/jcircuit/durable/reframe/v", reframed);
            assertThatThrownBy(() -> a.durable().get("/reframe/v", Integer.class)).isInstanceOf(SecurityException.class)
                .hasMessageContaining("refused before decoding");
        }
    }

    @Test
    void oldSealsAreRefusedWhenTheRuntimeIsToldToButStillReSealed() {
        ClusterKey key = ClusterKey.generate();
        byte[] payload = "record".getBytes(StandardCharsets.UTF_8);
        byte[] old = stripKind(oldSeal(key, "/old/v", Namespace.KIND_SIGNED_BYTES, payload));

        assertThat(new ClusterSeal(key, true).open("/old/v", Namespace.KIND_SIGNED_BYTES, old)).isEqualTo(payload);
        ClusterSeal refusing = new ClusterSeal(key, false);
        assertThatThrownBy(() -> refusing.open("/old/v", Namespace.KIND_SIGNED_BYTES, old))
            .isInstanceOf(SecurityException.class)
            .hasMessageContaining("sealed before seals covered a value's kind")
            .hasMessageContaining("circuit.durable.oldSeals=refuse");
        byte[] fresh = refusing.reseal("/old/v", Namespace.KIND_SIGNED_BYTES, old);
        assertThat(refusing.open("/old/v", Namespace.KIND_SIGNED_BYTES, fresh)).as("dreseal still reads it, and the"
            + " new seal is read").isEqualTo(payload);
        assertThatThrownBy(() -> refusing.open("/old/w", Namespace.KIND_SIGNED_BYTES, old))
            .as("a signature for another path is refused as before, not as an old seal")
            .hasMessageContaining("not this circuit's cluster key's for this path");
    }

    @Test
    void theOldSealsSettingIsAcceptOrRefuse() {
        String before = System.getProperty(ClusterSeal.OLD_SEALS_PROPERTY);
        try {
            System.clearProperty(ClusterSeal.OLD_SEALS_PROPERTY);
            assertThat(ClusterSeal.oldSealsAccepted()).isTrue();
            System.setProperty(ClusterSeal.OLD_SEALS_PROPERTY, "refuse");
            assertThat(ClusterSeal.oldSealsAccepted()).isFalse();
            System.setProperty(ClusterSeal.OLD_SEALS_PROPERTY, "accept");
            assertThat(ClusterSeal.oldSealsAccepted()).isTrue();
            System.setProperty(ClusterSeal.OLD_SEALS_PROPERTY, "no");
            assertThatThrownBy(ClusterSeal::oldSealsAccepted).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("circuit.durable.oldSeals=no: give accept (the default) or refuse");
        } finally {
            if (before == null) {
                System.clearProperty(ClusterSeal.OLD_SEALS_PROPERTY);
            } else {
                System.setProperty(ClusterSeal.OLD_SEALS_PROPERTY, before);
            }
        }
    }

    /** A stored value without its kind byte. */
    private static byte[] stripKind(byte[] data) {
        return Arrays.copyOfRange(data, 1, data.length);
    }

    /**
     * The data of a value of {@code kind} sealed as builds before the kind was bound sealed it: the kind, one
     * byte of signature length, the signature over the path, a zero byte and the payload, then the payload.
     */
    private static byte[] oldSeal(ClusterKey key, String path, byte kind, byte[] payload) {
        byte[] sig = key.sign(path.getBytes(StandardCharsets.UTF_8), new byte[] {0}, payload);
        byte[] data = new byte[2 + sig.length + payload.length];
        data[0] = kind;
        data[1] = (byte) sig.length;
        System.arraycopy(sig, 0, data, 2, sig.length);
        System.arraycopy(payload, 0, data, 2 + sig.length, payload.length);
        return data;
    }

    /** Version {@code version} of the deployment {@code shop}, of a jar whose hash is {@code hex} repeated. */
    private static Deployment deployment(int version, String hex) {
        return new Deployment("shop", version, hex.repeat(32), 1234, "shop.jar", Instant.parse("2025-01-02T03:04:05Z"), "");
    }
}
