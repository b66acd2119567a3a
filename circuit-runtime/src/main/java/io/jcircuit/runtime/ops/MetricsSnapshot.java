package io.jcircuit.runtime.ops;

import java.util.List;

/**
 * {@link Ops#metrics}: the call counters of one worker and its JVM gauges at one moment. Counters only
 * grow; rates come from two snapshots ({@code circuit top}, {@code circuit flow}).
 */
public record MetricsSnapshot(String worker, long atMillis, long uptimeMillis, List<CallStats> calls, JvmStats jvm) {
}
