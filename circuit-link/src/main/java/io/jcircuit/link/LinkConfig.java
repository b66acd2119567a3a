package io.jcircuit.link;

/**
 * Settings of a {@link LinkTransport}. Build one with {@link #builder()}; {@link Builder#build()}
 * fills in defaults and checks the settings against each other.
 *
 * @param bindHost           interface to listen on; loopback by default (a circuit without a cluster
 *                           key stays on loopback)
 * @param port               TCP port, 0 for any free port
 * @param advertisedHost     host name that peers dial; the bind host unless set
 * @param maxFrameBytes      hard limit on one frame, header included; a peer that sends more is cut off
 * @param connectTimeoutMs   how long a dial may take, handshake included
 * @param ioThreads          event-loop threads
 * @param preferEpoll        use the epoll transport where it loads (NIO otherwise)
 * @param writeLowWaterBytes  a link is writable again when its outbound queue drains below this
 * @param writeHighWaterBytes senders block once a link's outbound queue grows past this
 * @param directWrites       on epoll, let sending threads write to the socket themselves instead of
 *                           handing each frame to the event loop (see {@link Link#send}), once a
 *                           connection is busy (its first 64 writes go through the loop); on by default
 * @param advertisedPort     port that peers dial; the bound port when 0 (set it when peers reach this
 *                           runtime through a proxy or a port mapping)
 * @param heartbeatIntervalMs a connection that has read nothing for this long sends a PING
 * @param silenceLimitMs     a connection that has read nothing for this long is dropped as dead, and
 *                           its session starts redialing; several heartbeat intervals
 * @param outageLimitMs      how long a session may stay without a connection before the peer is
 *                           declared dead; outages shorter than this lose and repeat nothing.
 *                           The three timings default to 1 s, 5 s and 30 s, or to the system
 *                           properties {@code circuit.link.heartbeatMs}, {@code circuit.link.silenceMs}
 *                           and {@code circuit.link.outageLimitMs} where set
 * @param redialMinMs        first pause between redials of a session that lost its connection; it
 *                           doubles up to {@code redialMaxMs}
 * @param redialMaxMs        longest pause between redials
 * @param maxUnackedBytes    DATA bytes sent and not yet acknowledged by the peer that a session keeps
 *                           for replay; past it the link reports itself unwritable and senders wait
 * @param tls                the cluster's TLS identity, or null for plain TCP (loopback only, unless
 *                           {@code insecure})
 * @param insecure           allow binding a non-loopback interface without TLS
 * @param spinMicros         how long a thread that expects a message soon busy-polls before it sleeps:
 *                           an event loop after it handled something, one waiting caller, and a call
 *                           thread that has just answered (it may then serve the next call). Polling
 *                           saves a thread wake-up (about 10 us on the VMs we measure on) and costs up
 *                           to this much CPU per quiet spell. The spinner yields the CPU to the
 *                           operating system on each turn, so on one CPU the threads it waits for run
 *                           meanwhile. 0 turns it off. The default is 50 ({@link #DEFAULT_SPIN_MICROS}),
 *                           or the system property {@code circuit.spinMicros} where set
 * @param maxPendingConnections how many accepted connections may wait for their handshake (TLS, when there
 *                           is a cluster key, then the link's HELLO) at once. One more closes the oldest
 *                           silent one (see {@link LinkTransport}); links whose handshake is done do not
 *                           count. The default is 256 ({@link #DEFAULT_MAX_PENDING_CONNECTIONS}), or the
 *                           system property {@code circuit.link.maxPendingConnections} where set
 * @param sharedLoop         run the transport's event loop so that a thread polling for a message may run it
 *                           itself ({@link LoopShare}), rather than have the loop's thread read the message and
 *                           hand it over. Only with epoll, one I/O thread and a polling budget above 0. On
 *                           by default where the JVM has more than one CPU (on one, the poller and the loop's
 *                           thread take turns on it either way, and sharing measured 2-4 us slower per round
 *                           trip), or as the system property {@code circuit.link.sharedLoop} says
 */
public record LinkConfig(
    String bindHost,
    int port,
    String advertisedHost,
    int maxFrameBytes,
    int connectTimeoutMs,
    int ioThreads,
    boolean preferEpoll,
    int writeLowWaterBytes,
    int writeHighWaterBytes,
    boolean directWrites,
    int advertisedPort,
    int heartbeatIntervalMs,
    int silenceLimitMs,
    int outageLimitMs,
    int redialMinMs,
    int redialMaxMs,
    long maxUnackedBytes,
    LinkTls tls,
    boolean insecure,
    int spinMicros,
    int maxPendingConnections,
    boolean sharedLoop) {

    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /** The smallest frame limit that still leaves room for real messages. */
    public static final int MIN_MAX_FRAME_BYTES = 1024;
    /** The longest spin allowed; past a few hundred microseconds a wake-up is cheaper than the CPU burned. */
    public static final int MAX_SPIN_MICROS = 10_000;
    /** The polling budget unless configured, on any number of CPUs (see {@link #spinMicros}). */
    public static final int DEFAULT_SPIN_MICROS = 50;
    /**
     * The bound on connections waiting for their handshake unless configured (see {@link #maxPendingConnections}).
     * A genuine handshake takes milliseconds, so even a whole cluster redialing one runtime at once after an
     * outage stays far below it; and to push a genuine connection out, a flood must open this many
     * connections within those milliseconds. It costs at most this many file descriptors and TLS engines
     * (some tens of KiB each), a small part of a process's usual descriptor limit.
     */
    public static final int DEFAULT_MAX_PENDING_CONNECTIONS = 256;

    /**
     * The JVM property {@code name} as a whole number, or {@code orElse} when it is not set. A value
     * that is not a whole number is refused with its name, rather than ignored for the default.
     */
    public static int intProperty(String name, int orElse) {
        String v = System.getProperty(name);
        if (v == null) {
            return orElse;
        }
        try {
            return Integer.decode(v.trim()); // as Integer.getInteger reads it: 0x3E8 and 010 too
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("JVM property " + name + " must be a whole number, not '" + v + "'");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The longest wait for one redial's TCP connection, whatever {@code connectTimeoutMs} says. */
    static final int MAX_REDIAL_CONNECT_MS = 1_000;

    /**
     * How long one redial waits for its TCP connection before it gives up and, after the backoff, tries
     * again: {@code connectTimeoutMs}, but at most 1 s or {@code redialMaxMs}, whichever is longer. Within
     * one attempt, a SYN lost in an outage is sent again only when the kernel says: Linux with
     * {@code tcp_syn_linear_timeouts} (4 by default on current kernels) resends it every second four
     * times, then at 2, 4, 8 s; kernels without it at 1, 3, 7 s. A new attempt each second keeps a link
     * whose network comes and goes trying every second whatever the kernel does.
     */
    public int redialConnectTimeoutMs() {
        return Math.min(connectTimeoutMs, Math.max(MAX_REDIAL_CONNECT_MS, redialMaxMs));
    }

    /** Mutable builder; {@link #build()} concludes it. */
    public static final class Builder {
        private String bindHost = "127.0.0.1";
        private int port;
        private String advertisedHost;
        private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
        private int connectTimeoutMs = 5_000;
        private int ioThreads = 1;
        private boolean preferEpoll = true;
        private int writeLowWaterBytes = 256 * 1024;
        private int writeHighWaterBytes = 1024 * 1024;
        private boolean directWrites = true;
        private int advertisedPort;
        // Timing defaults may be set per JVM (-Dcircuit.link.heartbeatMs=...), so that an operator can
        // tune every runtime a host starts, and tests can make failures show up fast.
        private int heartbeatIntervalMs = intProperty("circuit.link.heartbeatMs", 1_000);
        private int silenceLimitMs = intProperty("circuit.link.silenceMs", 5_000);
        private int outageLimitMs = intProperty("circuit.link.outageLimitMs", 30_000);
        private int redialMinMs = 25;
        private int redialMaxMs = 1_000;
        private long maxUnackedBytes = 64L * 1024 * 1024;
        private LinkTls tls;
        private boolean insecure;
        private int spinMicros = intProperty("circuit.spinMicros", DEFAULT_SPIN_MICROS);
        private int maxPendingConnections = intProperty("circuit.link.maxPendingConnections",
            DEFAULT_MAX_PENDING_CONNECTIONS);
        private boolean sharedLoop = Boolean.parseBoolean(System.getProperty("circuit.link.sharedLoop",
            String.valueOf(Runtime.getRuntime().availableProcessors() > 1)));

        public Builder bindHost(String v) { bindHost = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder advertisedHost(String v) { advertisedHost = v; return this; }
        public Builder maxFrameBytes(int v) { maxFrameBytes = v; return this; }
        public Builder connectTimeoutMs(int v) { connectTimeoutMs = v; return this; }
        public Builder ioThreads(int v) { ioThreads = v; return this; }
        public Builder preferEpoll(boolean v) { preferEpoll = v; return this; }
        public Builder writeLowWaterBytes(int v) { writeLowWaterBytes = v; return this; }
        public Builder writeHighWaterBytes(int v) { writeHighWaterBytes = v; return this; }
        public Builder directWrites(boolean v) { directWrites = v; return this; }
        public Builder advertisedPort(int v) { advertisedPort = v; return this; }
        public Builder heartbeatIntervalMs(int v) { heartbeatIntervalMs = v; return this; }
        public Builder silenceLimitMs(int v) { silenceLimitMs = v; return this; }
        public Builder outageLimitMs(int v) { outageLimitMs = v; return this; }
        public Builder redialMinMs(int v) { redialMinMs = v; return this; }
        public Builder redialMaxMs(int v) { redialMaxMs = v; return this; }
        public Builder maxUnackedBytes(long v) { maxUnackedBytes = v; return this; }
        /** Speak mutual TLS with this identity issued from the cluster key. */
        public Builder tls(LinkTls v) { tls = v; return this; }
        /** Allow a non-loopback bind address without TLS. */
        public Builder insecure(boolean v) { insecure = v; return this; }
        /** Busy-poll budget in microseconds; 0 sleeps at once (see {@link LinkConfig#spinMicros}). */
        public Builder spinMicros(int v) { spinMicros = v; return this; }
        /** Accepted connections that may wait for their handshake at once (see {@link LinkConfig#maxPendingConnections}). */
        public Builder maxPendingConnections(int v) { maxPendingConnections = v; return this; }
        /** Let polling threads run the event loop themselves (see {@link LinkConfig#sharedLoop}). */
        public Builder sharedLoop(boolean v) { sharedLoop = v; return this; }

        /** Fills in defaults and validates; the message names the offending setting and value. */
        public LinkConfig build() {
            if (bindHost == null || bindHost.isBlank()) {
                throw new IllegalArgumentException("bindHost must be set, e.g. 127.0.0.1");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port=" + port + " is out of range 0..65535");
            }
            if (maxFrameBytes < MIN_MAX_FRAME_BYTES) {
                throw new IllegalArgumentException("maxFrameBytes=" + maxFrameBytes + " < " + MIN_MAX_FRAME_BYTES);
            }
            if (connectTimeoutMs <= 0) {
                throw new IllegalArgumentException("connectTimeoutMs=" + connectTimeoutMs + " must be positive");
            }
            if (ioThreads <= 0) {
                throw new IllegalArgumentException("ioThreads=" + ioThreads + " must be positive");
            }
            if (writeLowWaterBytes <= 0 || writeHighWaterBytes <= writeLowWaterBytes) {
                throw new IllegalArgumentException("writeHighWaterBytes=" + writeHighWaterBytes
                    + " must exceed writeLowWaterBytes=" + writeLowWaterBytes + " > 0");
            }
            if (advertisedPort < 0 || advertisedPort > 65535) {
                throw new IllegalArgumentException("advertisedPort=" + advertisedPort + " is out of range 0..65535");
            }
            if (heartbeatIntervalMs <= 0 || silenceLimitMs <= heartbeatIntervalMs) {
                throw new IllegalArgumentException("silenceLimitMs=" + silenceLimitMs
                    + " must exceed heartbeatIntervalMs=" + heartbeatIntervalMs + " > 0");
            }
            if (outageLimitMs <= 0) {
                throw new IllegalArgumentException("outageLimitMs=" + outageLimitMs + " must be positive");
            }
            if (redialMinMs <= 0 || redialMaxMs < redialMinMs) {
                throw new IllegalArgumentException("redialMaxMs=" + redialMaxMs
                    + " must be at least redialMinMs=" + redialMinMs + " > 0");
            }
            if (maxUnackedBytes < maxFrameBytes) {
                throw new IllegalArgumentException("maxUnackedBytes=" + maxUnackedBytes
                    + " must hold at least one frame of maxFrameBytes=" + maxFrameBytes);
            }
            if (spinMicros < 0 || spinMicros > MAX_SPIN_MICROS) {
                throw new IllegalArgumentException("spinMicros=" + spinMicros + " is out of range 0.." + MAX_SPIN_MICROS);
            }
            if (maxPendingConnections <= 0) {
                throw new IllegalArgumentException("maxPendingConnections=" + maxPendingConnections + " must be positive");
            }
            String advertised = advertisedHost;
            if (advertised == null || advertised.isBlank()) {
                if (bindHost.equals("0.0.0.0") || bindHost.equals("::")) {
                    throw new IllegalArgumentException("bindHost=" + bindHost
                        + " listens on every interface; set advertisedHost to the name peers should dial");
                }
                advertised = bindHost;
            }
            return new LinkConfig(bindHost, port, advertised, maxFrameBytes, connectTimeoutMs, ioThreads,
                preferEpoll, writeLowWaterBytes, writeHighWaterBytes, directWrites, advertisedPort,
                heartbeatIntervalMs, silenceLimitMs, outageLimitMs, redialMinMs, redialMaxMs, maxUnackedBytes,
                tls, insecure, spinMicros, maxPendingConnections, sharedLoop);
        }
    }

    /** This configuration with TLS from {@code tls}; a runtime issues its identity once its id is known. */
    public LinkConfig withTls(LinkTls tls) {
        return new LinkConfig(bindHost, port, advertisedHost, maxFrameBytes, connectTimeoutMs, ioThreads, preferEpoll,
            writeLowWaterBytes, writeHighWaterBytes, directWrites, advertisedPort, heartbeatIntervalMs, silenceLimitMs,
            outageLimitMs, redialMinMs, redialMaxMs, maxUnackedBytes, tls, insecure, spinMicros, maxPendingConnections,
            sharedLoop);
    }

    /**
     * Refuses a plain-TCP bind beyond loopback unless {@code insecure}: without TLS, anyone who can
     * reach the port could make this runtime run code.
     *
     * @throws IllegalArgumentException naming the address and what to do instead
     */
    public void checkExposure() {
        if (tls == null && !insecure && !isLoopback(bindHost)) {
            throw new IllegalArgumentException("the address " + bindHost + " is not a loopback address, and there is"
                + " no cluster key: without TLS anyone who reaches the port could run code here. Give a cluster"
                + " key (circuit keygen; --key FILE or CIRCUIT_KEY), or --insecure to bind anyway");
        }
    }

    /** True for a loopback address or "localhost"; other names count as reachable from outside, unresolved. */
    public static boolean isLoopback(String host) {
        if (host.equals("localhost")) {
            return true;
        }
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false; // a name: treat it as reachable from outside rather than resolve it
        }
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
