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
 * @param maxListedChildren the most entries, values and subdirectories one directory may hold and still
 *                         be listed (default {@value #DEFAULT_MAX_LISTED_CHILDREN}). ZooKeeper names a
 *                         node's children in one answer, which it cannot page, and a client drops its
 *                         connection on an answer larger than its {@code jute.maxbuffer} (1 MiB by
 *                         default, about 4,000 names of 255 characters); so the client's buffer is
 *                         sized to this many names of the longest length ({@link #listingBufferBytes}),
 *                         and a larger directory is refused before it is asked for. The server sends
 *                         answers of any size: its own {@code jute.maxbuffer} bounds what it receives.
 * @param retries          how many times an operation is tried again when the connection is lost or
 *                         not up yet, after waits of 100 ms doubling up to 1 s (default
 *                         {@value #DEFAULT_RETRIES}, 0 to {@value #MOST_RETRIES}); each try waits up to
 *                         {@code connectTimeoutMs} for the connection. Fewer fail an operation sooner
 *                         while ZooKeeper is away; a filed entry is filed again when it is back all the same.
 */
public record NamespaceConfig(String connectString, String root, int sessionTimeoutMs, int connectTimeoutMs,
                              int maxListedChildren, int retries) {

    public static final String DEFAULT_ROOT = "jcircuit";
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 4_000;
    /** No longer than the session timeout: Curator logs a warning at every start otherwise. */
    public static final int DEFAULT_CONNECT_TIMEOUT_MS = DEFAULT_SESSION_TIMEOUT_MS;
    /** A client buffer of about 17 MB (it is allocated per answer, as large as the answer). */
    public static final int DEFAULT_MAX_LISTED_CHILDREN = 65_536;
    public static final int DEFAULT_RETRIES = 3;
    /** Curator's bound for its exponential back-off. */
    public static final int MOST_RETRIES = 29;
    /** What one child's name takes in ZooKeeper's answer at most: its length, then its characters. */
    private static final int BYTES_PER_NAME = 4 + Paths.MAX_COMPONENT;
    /** Room in the client's buffer for the rest of an answer: headers, a stat. */
    private static final int ANSWER_OVERHEAD_BYTES = 64 * 1024;
    private static final int MOST_LISTED_CHILDREN = (Integer.MAX_VALUE - ANSWER_OVERHEAD_BYTES) / BYTES_PER_NAME;

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
        if (maxListedChildren <= 0 || maxListedChildren > MOST_LISTED_CHILDREN) {
            throw new IllegalArgumentException("maxListedChildren=" + maxListedChildren + " must be from 1 to "
                + MOST_LISTED_CHILDREN + " (the client's buffer for one answer is an int of bytes)");
        }
        if (retries < 0 || retries > MOST_RETRIES) {
            throw new IllegalArgumentException("retries=" + retries + " must be from 0 to " + MOST_RETRIES);
        }
    }

    /**
     * The client's {@code jute.maxbuffer}: room for an answer naming {@link #maxListedChildren} children
     * of the longest names a path allows. A larger value set with the system property is kept.
     */
    public int listingBufferBytes() {
        return maxListedChildren * BYTES_PER_NAME + ANSWER_OVERHEAD_BYTES;
    }

    /** Defaults for everything but the ensemble. */
    public static NamespaceConfig of(String connectString) {
        return new NamespaceConfig(connectString, DEFAULT_ROOT, DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS,
            DEFAULT_MAX_LISTED_CHILDREN, DEFAULT_RETRIES);
    }

    public NamespaceConfig withSessionTimeoutMs(int v) {
        return new NamespaceConfig(connectString, root, v, connectTimeoutMs, maxListedChildren, retries);
    }

    public NamespaceConfig withConnectTimeoutMs(int v) {
        return new NamespaceConfig(connectString, root, sessionTimeoutMs, v, maxListedChildren, retries);
    }

    public NamespaceConfig withRoot(String v) {
        return new NamespaceConfig(connectString, v, sessionTimeoutMs, connectTimeoutMs, maxListedChildren, retries);
    }

    public NamespaceConfig withMaxListedChildren(int v) {
        return new NamespaceConfig(connectString, root, sessionTimeoutMs, connectTimeoutMs, v, retries);
    }

    public NamespaceConfig withRetries(int v) {
        return new NamespaceConfig(connectString, root, sessionTimeoutMs, connectTimeoutMs, maxListedChildren, v);
    }
}
