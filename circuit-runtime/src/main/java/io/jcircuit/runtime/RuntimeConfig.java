package io.jcircuit.runtime;

import io.jcircuit.link.LinkConfig;

import java.nio.file.Path;

/**
 * Settings of one {@link CircuitRuntime}. Build with {@link #builder()}; {@link Builder#build()}
 * fills in defaults and validates, naming the offending setting.
 *
 * @param link                   the link layer's settings (bind address, frame limit, timeouts)
 * @param defaultCallTimeoutMs   the deadline of a call made outside any {@link io.jcircuit.Deadline} scope
 * @param maxIncomingCallsPerLink incoming calls that may run at once for one peer; past it the peer's
 *                               requests wait their turn, unread, while the link reads on (answers
 *                               included), which pushes back on that peer alone; past the bound on
 *                               waiting requests (see {@code PeerSession}) the link stops reading
 * @param maxOutgoingCallsPerLink calls to one peer that may wait for answers at once; past it callers
 *                               wait (within their deadline) before their request is even encoded
 * @param classLoader            loads the classes named in incoming messages
 * @param zookeeper              the ZooKeeper ensemble ({@code host:port,...}) holding the namespace, or null
 * @param embeddedZooKeeperDir   when not null, the runtime starts an embedded ZooKeeper keeping its data
 *                               under this state directory, and uses it; excludes {@code zookeeper}
 * @param zookeeperSessionTimeoutMs how long a crashed runtime's entries outlive it
 * @param zookeeperConnectTimeoutMs how long start waits for ZooKeeper before failing (default 4,000, or the JVM
 *                               property {@code circuit.zookeeper.connectTimeoutMs})
 * @param zookeeperRetries       how many times a namespace operation is tried again while ZooKeeper is away
 *                               ({@link io.jcircuit.anchor.NamespaceConfig#retries}; default 3, or the JVM
 *                               property {@code circuit.zookeeper.retries})
 * @param workerId               the runtime's id, or null for a random one (a host chooses its workers' ids)
 * @param clusterKey             the cluster key: when set, the runtime issues itself a certificate from
 *                               it at start and every link speaks mutual TLS 1.3; null for plain TCP,
 *                               which binds loopback only unless the link settings say insecure
 * @param callMetrics            whether per-peer, per-method call metrics are kept
 * @param entryMetadata          what the runtime's {@code /worker} entry, and every entry it files, carries
 *                               from its first filing besides the entry's own metadata (empty by default)
 */
public record RuntimeConfig(
    LinkConfig link,
    long defaultCallTimeoutMs,
    int maxIncomingCallsPerLink,
    int maxOutgoingCallsPerLink,
    ClassLoader classLoader,
    String zookeeper,
    Path embeddedZooKeeperDir,
    int zookeeperSessionTimeoutMs,
    int zookeeperConnectTimeoutMs,
    int zookeeperRetries,
    io.jcircuit.WorkerId workerId,
    io.jcircuit.link.tls.ClusterKey clusterKey,
    boolean callMetrics,
    java.util.Map<String, String> entryMetadata) {

    /** True when the runtime has a namespace: anchors, the durable store and membership. */
    public boolean hasNamespace() {
        return zookeeper != null || embeddedZooKeeperDir != null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A runtime on loopback, any free port, default settings. */
    public static RuntimeConfig defaults() {
        return builder().build();
    }

    public static final class Builder {
        private final LinkConfig.Builder link = LinkConfig.builder();
        private long defaultCallTimeoutMs = 30_000;
        private int maxIncomingCallsPerLink = 4096;
        private int maxOutgoingCallsPerLink = 1024;
        private ClassLoader classLoader;
        private String zookeeper;
        private Path embeddedZooKeeperDir;
        // may be set per JVM, so that a host's spawn jvmArgs can give a worker a longer session
        private int zookeeperSessionTimeoutMs = LinkConfig.intProperty("circuit.zookeeper.sessionTimeoutMs",
            io.jcircuit.anchor.NamespaceConfig.DEFAULT_SESSION_TIMEOUT_MS);
        // per JVM too, so that spawn jvmArgs can give a worker a shorter one (a test of a ZooKeeper that is gone)
        private int zookeeperConnectTimeoutMs = LinkConfig.intProperty("circuit.zookeeper.connectTimeoutMs",
            io.jcircuit.anchor.NamespaceConfig.DEFAULT_CONNECT_TIMEOUT_MS);
        // per JVM too, so that spawn jvmArgs can give a worker fewer (a test that stops ZooKeeper)
        private int zookeeperRetries = LinkConfig.intProperty("circuit.zookeeper.retries",
            io.jcircuit.anchor.NamespaceConfig.DEFAULT_RETRIES);
        private io.jcircuit.WorkerId workerId;
        private io.jcircuit.link.tls.ClusterKey clusterKey;
        private boolean callMetrics = !"false".equals(System.getProperty("circuit.callMetrics"));
        private java.util.Map<String, String> entryMetadata = java.util.Map.of();

        /** The link layer's own builder, for settings not repeated here. */
        public LinkConfig.Builder link() { return link; }
        public Builder bindHost(String v) { link.bindHost(v); return this; }
        public Builder port(int v) { link.port(v); return this; }
        public Builder advertisedHost(String v) { link.advertisedHost(v); return this; }
        public Builder maxFrameBytes(int v) { link.maxFrameBytes(v); return this; }
        public Builder connectTimeoutMs(int v) { link.connectTimeoutMs(v); return this; }
        public Builder defaultCallTimeoutMs(long v) { defaultCallTimeoutMs = v; return this; }
        public Builder maxIncomingCallsPerLink(int v) { maxIncomingCallsPerLink = v; return this; }
        public Builder maxOutgoingCallsPerLink(int v) { maxOutgoingCallsPerLink = v; return this; }
        public Builder classLoader(ClassLoader v) { classLoader = v; return this; }
        /** Joins the circuit whose namespace is in this ZooKeeper ensemble. */
        public Builder zookeeper(String connectString) { zookeeper = connectString; return this; }
        /** Starts an embedded ZooKeeper with its data under {@code stateDir}, and joins it. */
        public Builder embeddedZooKeeper(Path stateDir) { embeddedZooKeeperDir = stateDir; return this; }
        public Builder zookeeperSessionTimeoutMs(int v) { zookeeperSessionTimeoutMs = v; return this; }
        public Builder zookeeperConnectTimeoutMs(int v) { zookeeperConnectTimeoutMs = v; return this; }
        /** How many times a namespace operation is tried again while ZooKeeper is away (default 3). */
        public Builder zookeeperRetries(int v) { zookeeperRetries = v; return this; }
        /** Starts the runtime with this id rather than a random one. */
        public Builder workerId(io.jcircuit.WorkerId v) { workerId = v; return this; }
        /** Secures every link with mutual TLS from this cluster key (see {@code circuit keygen}). */
        public Builder clusterKey(io.jcircuit.link.tls.ClusterKey v) { clusterKey = v; return this; }
        /** Loads the cluster key file; {@code null} leaves links on plain TCP. */
        public Builder clusterKeyFile(Path file) {
            clusterKey = file == null ? null : io.jcircuit.link.tls.ClusterKey.load(file);
            return this;
        }
        /** Allows a bind address beyond loopback without a cluster key. */
        public Builder insecure(boolean v) { link.insecure(v); return this; }
        /**
         * Keep per-peer, per-method call metrics (default on; the JVM property {@code circuit.callMetrics=false}
         * turns them off, which the benchmark does to show what they cost).
         */
        public Builder callMetrics(boolean v) { callMetrics = v; return this; }
        /**
         * What the runtime's {@code /worker} entry, and every entry it files, carries from its first filing
         * (a role, say; a host's warm JVMs file {@code standby=true}). An entry's own metadata wins key by key.
         */
        public Builder entryMetadata(java.util.Map<String, String> v) {
            java.util.Objects.requireNonNull(v, "entryMetadata");
            v.forEach((k, x) -> {
                if (k == null || x == null) {
                    throw new IllegalArgumentException("entryMetadata has a null key or value: " + k + "=" + x);
                }
            });
            entryMetadata = java.util.Map.copyOf(v);
            return this;
        }

        public RuntimeConfig build() {
            if (defaultCallTimeoutMs <= 0) {
                throw new IllegalArgumentException("defaultCallTimeoutMs=" + defaultCallTimeoutMs + " must be positive");
            }
            if (maxOutgoingCallsPerLink <= 0) {
                throw new IllegalArgumentException("maxOutgoingCallsPerLink=" + maxOutgoingCallsPerLink + " must be positive");
            }
            if (maxIncomingCallsPerLink <= 0) {
                throw new IllegalArgumentException("maxIncomingCallsPerLink=" + maxIncomingCallsPerLink + " must be positive");
            }
            ClassLoader loader = classLoader != null ? classLoader : RuntimeConfig.class.getClassLoader();
            if (zookeeper != null && embeddedZooKeeperDir != null) {
                throw new IllegalArgumentException("give either zookeeper=" + zookeeper + " or embeddedZooKeeper="
                    + embeddedZooKeeperDir + ", not both");
            }
            if (zookeeperSessionTimeoutMs <= 0 || zookeeperConnectTimeoutMs <= 0) {
                throw new IllegalArgumentException("ZooKeeper timeouts must be positive: session "
                    + zookeeperSessionTimeoutMs + " ms, connect " + zookeeperConnectTimeoutMs + " ms");
            }
            if (zookeeperRetries < 0 || zookeeperRetries > io.jcircuit.anchor.NamespaceConfig.MOST_RETRIES) {
                throw new IllegalArgumentException("zookeeperRetries=" + zookeeperRetries + " must be from 0 to "
                    + io.jcircuit.anchor.NamespaceConfig.MOST_RETRIES);
            }
            LinkConfig built = link.build();
            if (clusterKey == null) {
                built.checkExposure(); // fail at configuration, not at start
            }
            return new RuntimeConfig(built, defaultCallTimeoutMs, maxIncomingCallsPerLink, maxOutgoingCallsPerLink, loader,
                zookeeper, embeddedZooKeeperDir, zookeeperSessionTimeoutMs, zookeeperConnectTimeoutMs, zookeeperRetries, workerId, clusterKey,
                callMetrics, entryMetadata);
        }
    }
}
