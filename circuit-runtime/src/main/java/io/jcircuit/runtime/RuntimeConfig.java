package io.jcircuit.runtime;

import io.jcircuit.link.LinkConfig;

/**
 * Settings of one {@link CircuitRuntime}. Build with {@link #builder()}; {@link Builder#build()}
 * fills in defaults and validates, naming the offending setting.
 *
 * @param link                   the link layer's settings (bind address, frame limit, timeouts)
 * @param defaultCallTimeoutMs   the deadline of a call made outside any {@link io.jcircuit.Deadline} scope
 * @param maxIncomingCallsPerLink incoming calls that may run at once for one peer; past it the link
 *                               stops reading, which pushes back on that peer alone
 * @param classLoader            loads the classes named in incoming messages
 */
public record RuntimeConfig(
    LinkConfig link,
    long defaultCallTimeoutMs,
    int maxIncomingCallsPerLink,
    ClassLoader classLoader) {

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
        private ClassLoader classLoader;

        /** The link layer's own builder, for settings not repeated here. */
        public LinkConfig.Builder link() { return link; }
        public Builder bindHost(String v) { link.bindHost(v); return this; }
        public Builder port(int v) { link.port(v); return this; }
        public Builder advertisedHost(String v) { link.advertisedHost(v); return this; }
        public Builder maxFrameBytes(int v) { link.maxFrameBytes(v); return this; }
        public Builder connectTimeoutMs(int v) { link.connectTimeoutMs(v); return this; }
        public Builder defaultCallTimeoutMs(long v) { defaultCallTimeoutMs = v; return this; }
        public Builder maxIncomingCallsPerLink(int v) { maxIncomingCallsPerLink = v; return this; }
        public Builder classLoader(ClassLoader v) { classLoader = v; return this; }

        public RuntimeConfig build() {
            if (defaultCallTimeoutMs <= 0) {
                throw new IllegalArgumentException("defaultCallTimeoutMs=" + defaultCallTimeoutMs + " must be positive");
            }
            if (maxIncomingCallsPerLink <= 0) {
                throw new IllegalArgumentException("maxIncomingCallsPerLink=" + maxIncomingCallsPerLink + " must be positive");
            }
            ClassLoader loader = classLoader != null ? classLoader : RuntimeConfig.class.getClassLoader();
            return new RuntimeConfig(link.build(), defaultCallTimeoutMs, maxIncomingCallsPerLink, loader);
        }
    }
}
