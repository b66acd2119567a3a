package io.jcircuit.bench;

import java.util.EnumMap;
import java.util.Map;

/** Made-up figures for formatting tests. */
final class Figures {

    private Figures() {
    }

    /**
     * One call pass where tcp round trips take {@code tcpRttUs}, pipelined TCP does 2 M msgs/s and
     * every other figure is given relative to those.
     */
    static Results pass(double tcpRttUs, double circuitRttUs, double goRttUs) {
        Map<Metric, Double> m = new EnumMap<>(Metric.class);
        m.put(Metric.TCP_RTT_P50, tcpRttUs);
        m.put(Metric.RMI_RTT_P50, 9.0);
        m.put(Metric.CIRCUIT_RTT_P50, circuitRttUs);
        m.put(Metric.CIRCUIT_RTT_P99, 2 * circuitRttUs);
        m.put(Metric.RMI_CALLS_8, 60_000.0);
        m.put(Metric.CIRCUIT_CALLS_8, 150_000.0);
        m.put(Metric.CIRCUIT_CALLS_8_METRICS, 150_000.0);
        m.put(Metric.CIRCUIT_CALLS_8_NOMETRICS, 155_000.0);
        m.put(Metric.CIRCUIT_METRICS_AB_SPREAD, 4.0);
        m.put(Metric.TCP_PIPELINED, 2_000_000.0);
        m.put(Metric.CIRCUIT_ASYNC, 500_000.0);
        m.put(Metric.CIRCUIT_GO_RTT_P50, goRttUs);
        m.put(Metric.CHAN_ITEMS, 500_000.0);
        return Results.of(Metric.Group.CALLS, m);
    }

    /** {@code base} with the metrics A/B's figures replaced: rates with and without metrics, and the spread in per cent. */
    static Results withMetricsAb(Results base, double on, double off, double spreadPct) {
        Map<Metric, Double> m = new EnumMap<>(Metric.class);
        for (Metric k : Metric.of(Metric.Group.CALLS)) {
            m.put(k, base.get(k, false));
        }
        m.put(Metric.CIRCUIT_CALLS_8_METRICS, on);
        m.put(Metric.CIRCUIT_CALLS_8_NOMETRICS, off);
        m.put(Metric.CIRCUIT_METRICS_AB_SPREAD, spreadPct);
        return Results.of(Metric.Group.CALLS, m);
    }

    /** One spawn pass. */
    static Results spawn(double helloMs, double coldMs, double warmMs, double rssMb) {
        Map<Metric, Double> m = new EnumMap<>(Metric.class);
        m.put(Metric.JVM_HELLO, helloMs);
        m.put(Metric.SPAWN_COLD_P50, coldMs);
        m.put(Metric.SPAWN_WARM_P50, warmMs);
        m.put(Metric.WORKER_IDLE_RSS, rssMb);
        return Results.of(Metric.Group.SPAWN, m);
    }
}
