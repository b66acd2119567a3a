package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.runtime.ops.CallStats;
import io.jcircuit.runtime.ops.MetricsSnapshot;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Samples the metrics of many workers at once (one virtual thread each) and turns two samples into
 * rates, for {@code top} and {@code flow}. Counters only grow, so a rate is the difference of two samples
 * over the time between them, measured by each worker's own clock.
 */
final class MetricsSampler {

    /** One worker's metrics, or why they could not be read. */
    record Sample(Entry entry, MetricsSnapshot metrics, String error) {
    }

    private MetricsSampler() {
    }

    static Map<String, Sample> sample(WorkerOps w, List<Entry> workers, Duration timeout) {
        Map<String, Future<MetricsSnapshot>> running = new LinkedHashMap<>();
        Map<String, Sample> out = new LinkedHashMap<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Entry e : workers) {
                running.put(e.worker().toString(), pool.submit(() -> w.call(e, timeout, ops -> ops.metrics())));
            }
            for (Entry e : workers) {
                String id = e.worker().toString();
                try {
                    out.put(id, new Sample(e, running.get(id).get(), null));
                } catch (ExecutionException ex) {
                    out.put(id, new Sample(e, null, WorkerOps.why(ex.getCause())));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    out.put(id, new Sample(e, null, "interrupted"));
                }
            }
        }
        return out;
    }

    /** Totals of one direction of one worker's rows, over all its peers and methods. */
    record Totals(long calls, long errors, long bytes, long p99Micros) {
        /**
         * Sums {@code m}'s rows of {@code direction}, leaving out those with {@code ignoredPeer} (the
         * sampling tool's own runtime, whose calls would otherwise show as the worker's traffic; null
         * leaves out nothing).
         */
        static Totals of(MetricsSnapshot m, String direction, String ignoredPeer) {
            long calls = 0;
            long errors = 0;
            long bytes = 0;
            long p99 = 0;
            if (m != null) {
                for (CallStats c : m.calls()) {
                    if (c.direction().equals(direction) && !c.peer().equals(ignoredPeer)) {
                        calls += c.calls();
                        errors += c.threw() + c.failed();
                        bytes += c.bytesOut() + c.bytesIn();
                        p99 = Math.max(p99, c.p99Micros());
                    }
                }
            }
            return new Totals(calls, errors, bytes, p99);
        }
    }

    /** Per second between {@code before} and {@code after}, by the worker's clock; 0 without both. */
    static double rate(long before, long after, MetricsSnapshot b, MetricsSnapshot a) {
        if (b == null || a == null || a.atMillis() <= b.atMillis()) {
            return 0;
        }
        return Math.max(0, after - before) * 1000.0 / (a.atMillis() - b.atMillis());
    }
}
