package io.jcircuit.runtime.ops;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.WorkerId;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The always-on call metrics of one runtime: for each peer, direction and method, how many calls,
 * how they ended, the bytes each way and a latency histogram. Recording a call costs two hash lookups
 * with no allocation once the method has been seen, a few {@link LongAdder} increments, and one
 * HdrHistogram record (microseconds, two significant digits, up to an hour).
 *
 * <p>HdrHistogram's {@link ConcurrentHistogram} takes records from any number of threads without a
 * lock; a snapshot copies it. Entries for a peer stay until {@link #forget} (the runtime calls it when
 * the peer's session ends for good), so a long-lived runtime does not grow without bound: calls that
 * end after that, which were in flight when the session ended, are not counted (they would bring the
 * peer back for good), and a peer counts at most {@value #MAX_METHODS} names each way, the calls of
 * any more under {@value #MORE_METHODS}. Each name costs a histogram of about 50 KB.
 */
public final class CallMetrics {

    private static final long HIGHEST_MICROS = 3_600_000_000L;
    /** The most method names counted for one peer and direction. */
    public static final int MAX_METHODS = 256;
    /** Where the calls of a peer's further method names are counted. */
    public static final String MORE_METHODS = "(more methods)";
    /** How long a forgotten peer's late calls are dropped, unless it links again. */
    private static final long GONE_NANOS = 120_000_000_000L;

    private final ConcurrentHashMap<WorkerId, PeerMetrics> peers = new ConcurrentHashMap<>();
    /** Peers forgotten, and when: calls of theirs that end late are not counted. */
    private final ConcurrentHashMap<WorkerId, Long> gone = new ConcurrentHashMap<>();

    /** Counts one finished call. */
    public void record(Direction direction, WorkerId peer, String method, long bytesOut, long bytesIn,
                       long durationNanos, CallEvent.Outcome outcome) {
        PeerMetrics p = peers.get(peer);
        if (p == null) {
            if (gone.containsKey(peer)) {
                return; // in flight when its session ended for good
            }
            p = peers.computeIfAbsent(peer, k -> new PeerMetrics());
        }
        ConcurrentHashMap<String, MethodMetrics> byMethod = direction == Direction.OUT ? p.out : p.in;
        MethodMetrics m = byMethod.get(method);
        if (m == null) {
            String name = byMethod.size() < MAX_METHODS ? method : MORE_METHODS;
            m = byMethod.computeIfAbsent(name, k -> new MethodMetrics());
        }
        switch (outcome) {
            case OK -> m.ok.increment();
            case THREW -> m.threw.increment();
            case FAILED -> m.failed.increment();
        }
        m.bytesOut.add(bytesOut);
        m.bytesIn.add(bytesIn);
        long micros = Math.min(Math.max(durationNanos / 1_000, 1), HIGHEST_MICROS);
        m.latency.recordValue(micros);
    }

    /** Drops what was counted for {@code peer}, whose session has ended for good. */
    public void forget(WorkerId peer) {
        long now = System.nanoTime();
        gone.values().removeIf(at -> now - at > GONE_NANOS);
        gone.put(peer, now);
        peers.remove(peer);
    }

    /** {@code peer} is linked (again): its calls are counted. */
    public void linked(WorkerId peer) {
        if (!gone.isEmpty()) {
            gone.remove(peer);
        }
    }

    /** A copy of every counter, one row per peer, direction and method. */
    public List<CallStats> snapshot() {
        List<CallStats> rows = new ArrayList<>();
        peers.forEach((peer, p) -> {
            add(rows, peer, Direction.OUT, p.out);
            add(rows, peer, Direction.IN, p.in);
        });
        return rows;
    }

    private static void add(List<CallStats> rows, WorkerId peer, Direction d,
                            ConcurrentHashMap<String, MethodMetrics> byMethod) {
        byMethod.forEach((method, m) -> {
            // each outcome counted apart and the total their sum: every count only grows from one snapshot to the
            // next (a total counted apart, read before or after an outcome, made ok dip back by one)
            long ok = m.ok.sum();
            long threw = m.threw.sum();
            long failed = m.failed.sum();
            Histogram h = m.latency.copy();
            rows.add(new CallStats(d.name(), peer.toString(), method, ok + threw + failed, threw, failed,
                m.bytesOut.sum(), m.bytesIn.sum(), h.getTotalCount(), h.getValueAtPercentile(50),
                h.getValueAtPercentile(90), h.getValueAtPercentile(99), h.getMaxValue(), h.getMean()));
        });
    }

    private static final class PeerMetrics {
        final ConcurrentHashMap<String, MethodMetrics> out = new ConcurrentHashMap<>();
        final ConcurrentHashMap<String, MethodMetrics> in = new ConcurrentHashMap<>();
    }

    private static final class MethodMetrics {
        final LongAdder ok = new LongAdder();
        final LongAdder threw = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder bytesOut = new LongAdder();
        final LongAdder bytesIn = new LongAdder();
        final ConcurrentHistogram latency = new ConcurrentHistogram(1, HIGHEST_MICROS, 2);
    }
}
