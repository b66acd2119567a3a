package io.jcircuit.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The figures of the bench, in the order {@code --json} prints them within their {@link Group}. The
 * call figures are measured twice: each key is the unpinned pass's name, and the 1-CPU pass appends
 * {@link #PINNED_SUFFIX}. The spawn figures are measured once, unpinned, and have no such variant.
 */
enum Metric {
    TCP_RTT_P50("tcp_rtt_p50_us", Kind.RTT, Group.CALLS, "raw TCP ping-pong 64 B, p50"),
    RMI_RTT_P50("rmi_rtt_p50_us", Kind.RTT, Group.CALLS, "Java RMI echo, p50"),
    CIRCUIT_RTT_P50("circuit_rtt_p50_us", Kind.RTT, Group.CALLS, "JCircuit sync call, p50"),
    CIRCUIT_RTT_P99("circuit_rtt_p99_us", Kind.RTT, Group.CALLS, "JCircuit sync call, p99"),
    RMI_CALLS_8("rmi_calls_per_s_8", Kind.RATE, Group.CALLS, "Java RMI, 8 callers"),
    CIRCUIT_CALLS_8("circuit_calls_per_s_8", Kind.RATE, Group.CALLS, "JCircuit, 8 callers"),
    CIRCUIT_CALLS_8_METRICS("circuit_calls_per_s_8_metrics", Kind.RATE, Group.CALLS,
        "JCircuit, 8 callers, call metrics on: the A/B rounds, alternated with the next figure"),
    CIRCUIT_CALLS_8_NOMETRICS("circuit_calls_per_s_8_nometrics", Kind.RATE, Group.CALLS,
        "JCircuit, 8 callers, call metrics off on both sides: the A/B rounds (what the always-on metrics cost)"),
    CIRCUIT_METRICS_AB_SPREAD("circuit_metrics_ab_spread_pct", Kind.PERCENT, Group.CALLS,
        "how far the two windows of one side of the metrics A/B lay apart, in per cent of their mean (the larger"
            + " side's): the noise that the A/B cannot tell from a cost"),
    TCP_PIPELINED("tcp_pipelined_msgs_per_s", Kind.RATE, Group.CALLS, "raw TCP pipelined 64 B"),
    CIRCUIT_ASYNC("circuit_async_calls_per_s", Kind.RATE, Group.CALLS, "JCircuit pipelined, one link"),
    CIRCUIT_GO_RTT_P50("circuit_go_rtt_p50_us", Kind.RTT, Group.CALLS, "JCircuit go, p50"),
    CHAN_ITEMS("chan_items_per_s", Kind.RATE, Group.CALLS, "JCircuit channel, small items from the client into the server's"),
    JVM_HELLO("jvm_hello_ms", Kind.MILLIS, Group.SPAWN, "java -cp <one class> Hello until it exits, p50"),
    SPAWN_COLD_P50("spawn_cold_p50_ms", Kind.MILLIS, Group.SPAWN, "spawn of a new worker JVM until its result, p50"),
    SPAWN_WARM_P50("spawn_warm_p50_ms", Kind.MILLIS, Group.SPAWN, "spawn served by a warm JVM until its result, p50"),
    WORKER_IDLE_RSS("worker_idle_rss_mb", Kind.MEGABYTES, Group.SPAWN, "VmRSS of a spawned worker idle for at least 10 s");

    /** Appended to every key of the pass that pins both JVMs to CPU 0. */
    static final String PINNED_SUFFIX = "_1cpu";

    /**
     * A round trip in microseconds or a duration in milliseconds (lower is better), a rate per second
     * (higher is better), a memory size in MiB (lower is better), or a share in per cent.
     */
    enum Kind { RTT, RATE, MILLIS, MEGABYTES, PERCENT }

    /** Which run measures a figure. */
    enum Group {
        /** Measured by each {@link Pass}, unpinned and pinned: the peers side by side on loopback. */
        CALLS,
        /** Measured once by the {@link SpawnPass}, unpinned: host daemons starting worker JVMs. */
        SPAWN
    }

    private final String key;
    private final Kind kind;
    private final Group group;
    private final String label;

    Metric(String key, Kind kind, Group group, String label) {
        this.key = key;
        this.kind = kind;
        this.group = group;
        this.label = label;
    }

    /** The figures of {@code group}, in order. */
    static List<Metric> of(Group group) {
        return Arrays.stream(values()).filter(m -> m.group == group).toList();
    }

    /** The JSON key of the unpinned pass, or of the one measurement of a {@link Group#SPAWN} figure. */
    String key() {
        return key;
    }

    /**
     * The JSON key of this figure in the pass that is pinned ({@code true}) or not.
     *
     * @throws IllegalArgumentException for a pinned {@link Group#SPAWN} figure, which is never measured
     */
    String key(boolean pinned) {
        if (pinned && group != Group.CALLS) {
            throw new IllegalArgumentException(key + " is measured once, unpinned; it has no " + PINNED_SUFFIX + " variant");
        }
        return pinned ? key + PINNED_SUFFIX : key;
    }

    Kind kind() {
        return kind;
    }

    Group group() {
        return group;
    }

    /** A short human description. */
    String label() {
        return label;
    }

    /** Whether this figure is a floor: the one its own ratio, and others', are taken against. */
    boolean isFloor() {
        return floor().filter(f -> f == this).isPresent();
    }

    /**
     * The figure that this figure's ratio is taken against, in the same pass: RMI's 8 callers for the
     * 8-caller rates (their target is a multiple of it), raw TCP for the other round trips and rates, the
     * JVM hello-world start for spawn times; none for memory and shares.
     */
    Optional<Metric> floor() {
        if (this == RMI_CALLS_8 || this == CIRCUIT_CALLS_8 || this == CIRCUIT_CALLS_8_METRICS
            || this == CIRCUIT_CALLS_8_NOMETRICS) {
            return Optional.of(RMI_CALLS_8);
        }
        return switch (kind) {
            case RTT -> Optional.of(TCP_RTT_P50);
            case RATE -> Optional.of(TCP_PIPELINED);
            case MILLIS -> Optional.of(JVM_HELLO);
            case MEGABYTES, PERCENT -> Optional.empty();
        };
    }
}
