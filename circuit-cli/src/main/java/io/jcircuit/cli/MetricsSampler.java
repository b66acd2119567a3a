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

        /**
         * What {@code after}'s rows of {@code direction} grew by since {@code before}, row by row (peer and
         * method), leaving out {@code ignoredPeer}'s: a row that is new counts whole; a row gone (its peer's
         * session ended, and the worker forgot it) counts nothing, rather than taking its past calls off the
         * others' growth; a row that restarted (its peer forgotten and linked again: any of its counts fell)
         * counts what it has. p99 is
         * {@code after}'s. Empty without both samples.
         */
        static Totals grown(MetricsSnapshot before, MetricsSnapshot after, String direction, String ignoredPeer) {
            if (before == null || after == null) {
                return new Totals(0, 0, 0, 0);
            }
            Map<String, CallStats> was = new java.util.HashMap<>();
            for (CallStats c : before.calls()) {
                if (c.direction().equals(direction)) {
                    was.put(c.peer() + " " + c.method(), c);
                }
            }
            long calls = 0;
            long errors = 0;
            long bytes = 0;
            long p99 = 0;
            for (CallStats c : after.calls()) {
                if (!c.direction().equals(direction) || c.peer().equals(ignoredPeer)) {
                    continue;
                }
                CallStats b = was.get(c.peer() + " " + c.method());
                // any count that fell: its peer was forgotten and linked again, and the row counts anew
                boolean restarted = b == null || c.calls() < b.calls() || c.threw() + c.failed() < b.threw() + b.failed()
                    || c.bytesOut() + c.bytesIn() < b.bytesOut() + b.bytesIn();
                calls += restarted ? c.calls() : c.calls() - b.calls();
                errors += restarted ? c.threw() + c.failed() : c.threw() + c.failed() - b.threw() - b.failed();
                bytes += restarted ? c.bytesOut() + c.bytesIn() : c.bytesOut() + c.bytesIn() - b.bytesOut() - b.bytesIn();
                p99 = Math.max(p99, c.p99Micros());
            }
            return new Totals(calls, errors, bytes, p99);
        }
    }

    /** {@code grown} per second between samples {@code b} and {@code a}, by the worker's clock; 0 without both. */
    static double perSecond(long grown, MetricsSnapshot b, MetricsSnapshot a) {
        if (b == null || a == null || a.atMillis() <= b.atMillis()) {
            return 0;
        }
        return Math.max(0, grown) * 1000.0 / (a.atMillis() - b.atMillis());
    }
}
