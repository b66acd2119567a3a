package io.jcircuit.anchor;

import org.apache.zookeeper.client.ZKClientConfig;

import java.util.List;

/**
 * The configuration of a ZooKeeper client that does not speak TLS to ZooKeeper, which is how JCircuit
 * connects. It reads the same system properties as {@link ZKClientConfig} except the {@code
 * zookeeper.ssl.*} ones: reading their names makes {@code ZKClientConfig} build ZooKeeper's {@code
 * X509Util}, whose static initialiser asks the JVM's default {@code SSLContext} for its protocols,
 * and that loads the JDK's TLS stack and parses every CA certificate. In a cold worker JVM that cost
 * about 550 classes, 6 MB of resident memory and 0.15 to 0.25 s of its start (docs/performance.md).
 *
 * <p>When any ZooKeeper TLS property is set ({@code zookeeper.client.secure}, {@code zookeeper.ssl.*}),
 * {@link #forClient()} returns ZooKeeper's own configuration instead, so that nothing set is ignored.
 */
final class PlainClientConfig extends ZKClientConfig {

    /** What {@code ZKConfig} and {@code ZKClientConfig} copy from system properties, TLS aside (ZooKeeper 3.9). */
    private static final List<String> COPIED = List.of(
        "jute.maxbuffer", "zookeeper.kinit", "sun.security.jgss.native",
        ZKClientConfig.ZK_SASL_CLIENT_USERNAME, ZKClientConfig.ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME,
        ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, ZKClientConfig.ENABLE_CLIENT_SASL_KEY,
        ZKClientConfig.ZOOKEEPER_SERVER_REALM, ZKClientConfig.DISABLE_AUTO_WATCH_RESET,
        ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ZKClientConfig.SECURE_CLIENT);

    private PlainClientConfig() {
    }

    /** This configuration, or ZooKeeper's own when the process sets any ZooKeeper TLS property. */
    static ZKClientConfig forClient() {
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("zookeeper.ssl") || name.equals(ZKClientConfig.SECURE_CLIENT)) {
                return new ZKClientConfig();
            }
        }
        return new PlainClientConfig();
    }

    /** Called by the super constructor: copies {@link #COPIED}, and no TLS property names. */
    @Override
    protected void handleBackwardCompatibility() {
        for (String name : COPIED) {
            String value = System.getProperty(name);
            if (value != null) {
                setProperty(name, value);
            }
        }
    }
}
