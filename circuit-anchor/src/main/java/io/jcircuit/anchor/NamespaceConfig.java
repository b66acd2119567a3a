package io.jcircuit.anchor;

import java.util.Objects;

/**
 * How to reach ZooKeeper.
 *
 * @param connectString    {@code host:port[,host:port...]} of the ensemble
 * @param root             the znode under which this circuit lives, without slashes (default
 *                         {@code jcircuit}); circuits with different roots share an ensemble safely
 * @param sessionTimeoutMs the ZooKeeper session timeout: how long a crashed runtime's entries outlive
 *                         it. The server clamps it to between 2 and 20 ticks.
 * @param connectTimeoutMs how long to wait for ZooKeeper at start, and per attempt of an operation,
 *                         before failing with a {@link NamespaceException}
 */
public record NamespaceConfig(String connectString, String root, int sessionTimeoutMs, int connectTimeoutMs) {

    public static final String DEFAULT_ROOT = "jcircuit";
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 4_000;
    /** No longer than the session timeout: Curator logs a warning at every start otherwise. */
    public static final int DEFAULT_CONNECT_TIMEOUT_MS = DEFAULT_SESSION_TIMEOUT_MS;

    public NamespaceConfig {
        Objects.requireNonNull(connectString, "connectString");
        if (connectString.isBlank()) {
            throw new IllegalArgumentException("ZooKeeper connect string is empty");
        }
        for (String server : connectString.split(",")) {
            String hp = server.strip();
            int colon = hp.lastIndexOf(':');
            String port = colon < 0 ? "" : hp.substring(colon + 1);
            int slash = port.indexOf('/'); // a chroot suffix, host:port/chroot
            if (slash >= 0) {
                port = port.substring(0, slash);
            }
            boolean ok = colon > 0 && !port.isEmpty() && port.chars().allMatch(Character::isDigit)
                && port.length() <= 5 && Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535;
            if (!ok) {
                throw new IllegalArgumentException("bad ZooKeeper address '" + hp + "' in '" + connectString
                    + "': expected host:port with a port from 1 to 65535");
            }
        }
        if (root == null || root.isEmpty() || root.contains("/")) {
            throw new IllegalArgumentException("namespace root '" + root + "' must be one non-empty znode name");
        }
        if (sessionTimeoutMs <= 0 || connectTimeoutMs <= 0) {
            throw new IllegalArgumentException("timeouts must be positive: session " + sessionTimeoutMs
                + " ms, connect " + connectTimeoutMs + " ms");
        }
    }

    /** Defaults for everything but the ensemble. */
    public static NamespaceConfig of(String connectString) {
        return new NamespaceConfig(connectString, DEFAULT_ROOT, DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS);
    }

    public NamespaceConfig withSessionTimeoutMs(int v) {
        return new NamespaceConfig(connectString, root, v, connectTimeoutMs);
    }

    public NamespaceConfig withConnectTimeoutMs(int v) {
        return new NamespaceConfig(connectString, root, sessionTimeoutMs, v);
    }

    public NamespaceConfig withRoot(String v) {
        return new NamespaceConfig(connectString, v, sessionTimeoutMs, connectTimeoutMs);
    }
}
