package io.jcircuit.cli.console;

import io.jcircuit.runtime.ops.CallStats;
import io.jcircuit.runtime.ops.MetricsSnapshot;

import java.util.Map;
import java.util.TreeMap;

/**
 * The counters of one caller's calls to one peer, summed over methods, and the rates between two of
 * them: how the console and {@code circuit flow} both compute a flow.
 *
 * @param bytes both directions: arguments out and answers back
 */
public record FlowCounters(long calls, long bytes, long p99Micros) {

    /** How the call metrics name calls to an ops service, and the dial that finds one. */
    private static final String OPS_METHODS = io.jcircuit.runtime.ops.Ops.class.getSimpleName() + ".";
    private static final String OPS_DIAL = "dial " + io.jcircuit.runtime.ops.Ops.SERVICE;

    /** The caller's {@code OUT} rows, summed per peer. */
    public static Map<String, FlowCounters> outByPeer(MetricsSnapshot m) {
        return outByPeer(m, false);
    }

    /**
     * The caller's {@code OUT} rows, summed per peer; without its calls to ops services when
     * {@code withoutOps}: the caller is the one sampling, and those calls are its sampling.
     */
    public static Map<String, FlowCounters> outByPeer(MetricsSnapshot m, boolean withoutOps) {
        Map<String, FlowCounters> byPeer = new TreeMap<>();
        for (CallStats s : m.calls()) {
            boolean ops = s.method().startsWith(OPS_METHODS) || s.method().equals(OPS_DIAL);
            if ("OUT".equals(s.direction()) && !(withoutOps && ops)) {
                byPeer.merge(s.peer(), new FlowCounters(s.calls(), s.bytesOut() + s.bytesIn(), s.p99Micros()),
                    FlowCounters::plus);
            }
        }
        return byPeer;
    }

    private FlowCounters plus(FlowCounters o) {
        return new FlowCounters(calls + o.calls, bytes + o.bytes, Math.max(p99Micros, o.p99Micros));
    }

    /**
     * The flow since {@code before}, {@code seconds} earlier; rates are 0 without a before or an interval.
     * Counters that went down (the caller forgot the peer and met it again) count from 0.
     */
    public CircuitPicture.Flow flow(String from, String to, FlowCounters before, double seconds) {
        double callsPerSec = 0;
        double bytesPerSec = 0;
        if (before != null && seconds > 0) {
            callsPerSec = delta(calls, before.calls) / seconds;
            bytesPerSec = delta(bytes, before.bytes) / seconds;
        }
        return new CircuitPicture.Flow(from, to, round(callsPerSec), round(bytesPerSec), p99Micros, calls, bytes);
    }

    private static long delta(long now, long then) {
        return now >= then ? now - then : now;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
