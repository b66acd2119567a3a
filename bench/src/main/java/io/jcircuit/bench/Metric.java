package io.jcircuit.bench;

/**
 * The figures one pass measures, in the order {@code --json} prints them. Each key is the unpinned
 * pass's name; the 1-CPU pass appends {@link #PINNED_SUFFIX}.
 */
enum Metric {
    TCP_RTT_P50("tcp_rtt_p50_us", Kind.RTT, "raw TCP ping-pong 64 B, p50"),
    RMI_RTT_P50("rmi_rtt_p50_us", Kind.RTT, "Java RMI echo, p50"),
    CIRCUIT_RTT_P50("circuit_rtt_p50_us", Kind.RTT, "JCircuit sync call, p50"),
    CIRCUIT_RTT_P99("circuit_rtt_p99_us", Kind.RTT, "JCircuit sync call, p99"),
    RMI_CALLS_8("rmi_calls_per_s_8", Kind.RATE, "Java RMI, 8 callers"),
    CIRCUIT_CALLS_8("circuit_calls_per_s_8", Kind.RATE, "JCircuit, 8 callers"),
    TCP_PIPELINED("tcp_pipelined_msgs_per_s", Kind.RATE, "raw TCP pipelined 64 B"),
    CIRCUIT_ASYNC("circuit_async_calls_per_s", Kind.RATE, "JCircuit pipelined, one link"),
    CIRCUIT_GO_RTT_P50("circuit_go_rtt_p50_us", Kind.RTT, "JCircuit go, p50");

    /** Appended to every key of the pass that pins both JVMs to CPU 0. */
    static final String PINNED_SUFFIX = "_1cpu";

    /** A round trip in microseconds (lower is better) or a rate per second (higher is better). */
    enum Kind { RTT, RATE }

    private final String key;
    private final Kind kind;
    private final String label;

    Metric(String key, Kind kind, String label) {
        this.key = key;
        this.kind = kind;
        this.label = label;
    }

    /** The JSON key of the unpinned pass. */
    String key() {
        return key;
    }

    /** The JSON key of this figure in the pass that is pinned ({@code true}) or not. */
    String key(boolean pinned) {
        return pinned ? key + PINNED_SUFFIX : key;
    }

    Kind kind() {
        return kind;
    }

    /** A short human description for the table. */
    String label() {
        return label;
    }

    /** The raw TCP figure that this figure's ratio is taken against, in the same pass. */
    Metric floor() {
        return kind == Kind.RTT ? TCP_RTT_P50 : TCP_PIPELINED;
    }
}
