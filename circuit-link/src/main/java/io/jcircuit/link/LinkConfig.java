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
 *                           handing each frame to the event loop (see {@link Link#send}); on by default
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
    boolean directWrites) {

    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /** The smallest frame limit that still leaves room for real messages. */
    public static final int MIN_MAX_FRAME_BYTES = 1024;

    public static Builder builder() {
        return new Builder();
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
            String advertised = advertisedHost;
            if (advertised == null || advertised.isBlank()) {
                if (bindHost.equals("0.0.0.0") || bindHost.equals("::")) {
                    throw new IllegalArgumentException("bindHost=" + bindHost
                        + " listens on every interface; set advertisedHost to the name peers should dial");
                }
                advertised = bindHost;
            }
            return new LinkConfig(bindHost, port, advertised, maxFrameBytes, connectTimeoutMs, ioThreads,
                preferEpoll, writeLowWaterBytes, writeHighWaterBytes, directWrites);
        }
    }
}
