package io.jcircuit.runtime.ops;

/**
 * JVM gauges at one moment. {@code processCpuLoad} is 0 to 1 of the whole machine, negative when unknown;
 * {@code rssBytes} is 0 where {@code /proc} does not tell.
 */
public record JvmStats(long heapUsed, long heapCommitted, long heapMax, long nonHeapUsed, long gcCount, long gcMillis,
                       int threads, int peakThreads, long loadedClasses, double processCpuLoad, long rssBytes,
                       long cpuTimeNanos) {
}
