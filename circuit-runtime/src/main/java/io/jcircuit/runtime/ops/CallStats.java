package io.jcircuit.runtime.ops;

import java.io.Serializable;

/**
 * Counters of one (peer, direction, method) since the runtime first saw it. Latencies are in
 * microseconds; {@code latencyCount} can trail {@code calls} by the calls recorded while the copy was
 * taken.
 *
 * @param direction {@code OUT} (this runtime called) or {@code IN} (it served)
 * @param peer      the worker on the other side
 */
public record CallStats(String direction, String peer, String method, long calls, long threw, long failed,
                        long bytesOut, long bytesIn, long latencyCount, long p50Micros, long p90Micros,
                        long p99Micros, long maxMicros, double meanMicros) implements Serializable {
}
