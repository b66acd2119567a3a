package io.jcircuit.runtime;

import io.jcircuit.Durable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The forwarding records of this runtime's hot swaps in the durable store ({@code /moved/<worker>/<handle>}):
 * what a caller that calls a forwarded service only after this worker exited follows. A record that
 * cannot be written now (ZooKeeper is away) is not dropped: it stays wanted, and is written as soon as the
 * namespace's connection is back ({@link io.jcircuit.anchor.Namespace#whenConnected}), or at the latest
 * every {@link #RETRY_FALLBACK_MS} (for a write that failed while the connection stayed up).
 * Only the last wish for a path counts: a rolled-back swap's removal replaces a store not yet written.
 *
 * <p>{@link #unwritten()} says how many are still wanted; a retiring worker waits for none before it
 * exits ({@code OpsService.retire}). {@link #close} gives up and logs what was not written.
 *
 * <p>Threading: {@link #store} and {@link #remove} are called from any thread; the first writes at once,
 * on the caller's thread, unless earlier records are still waiting (then it joins them, and the caller
 * is not held up by an outage it would only wait out). Writes are serialized, so that a removal never
 * lands before the store it undoes; they all go to the one ZooKeeper ensemble, which a lock held across
 * them cannot make any slower for others.
 */
final class ForwardingRecords implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingRecords.class);

    /** The longest wait between two attempts when no reconnection wakes the retrier first. */
    static final long RETRY_FALLBACK_MS = 30_000;

    /** What a path is to hold: a removal. Any other value is the replacement to store there. */
    private static final Object REMOVED = new Object();

    private final Durable durable;
    private final String owner;
    /** The records not yet written, by path: the replacement, or {@link #REMOVED}. */
    private final Map<String, Object> wanted = new ConcurrentHashMap<>();
    /** Serializes the writes (a lock across ZooKeeper calls: see the class comment). */
    private final Object writing = new Object();
    /** Released when the connection is back: the retrier tries again at once. */
    private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
    private final AutoCloseable reconnects;
    private volatile long fallbackMs = RETRY_FALLBACK_MS;
    private Thread retrier; // guarded by this
    /** True while the retrier waits for the connection to come back (or the fallback's time). */
    private volatile boolean idle;
    private volatile boolean closed;

    /** @param reconnects registers what to run each time the namespace's connection is back; returns its handle */
    ForwardingRecords(Durable durable, String owner, java.util.function.Function<Runnable, AutoCloseable> reconnects) {
        this.durable = java.util.Objects.requireNonNull(durable, "durable");
        this.owner = owner;
        this.reconnects = reconnects.apply(() -> {
            if (wake.availablePermits() == 0) {
                wake.release();
            }
        });
    }

    /** {@code path} is to point at {@code replacement}; written now if it can be, else once it can. */
    void store(String path, Object replacement) {
        want(path, java.util.Objects.requireNonNull(replacement, "replacement"));
    }

    /** {@code path} is to hold no record; removed now if it can be, else once it can. */
    void remove(String path) {
        want(path, REMOVED);
    }

    /** How many records are still to be written (or removed). */
    int unwritten() {
        return wanted.size();
    }

    /** True while records that could not be written wait for ZooKeeper's connection to come back; for tests. */
    synchronized boolean waiting() {
        return retrier != null && idle;
    }

    /** Sets the longest wait between two attempts that no reconnection cuts short; for tests. */
    void retryFallback(java.time.Duration wait) {
        fallbackMs = wait.toMillis();
    }

    private void want(String path, Object value) {
        wanted.put(path, value);
        if (closed) {
            giveUp();
            return;
        }
        synchronized (this) {
            if (retrier != null) {
                if (wake.availablePermits() == 0) {
                    wake.release(); // the retrier writes it with the others, at once
                }
                return;
            }
        }
        if (!writeWanted()) {
            retrySoon();
        }
    }

    /** Writes each wanted record once; true when none is left. */
    private boolean writeWanted() {
        synchronized (writing) {
            for (var e : List.copyOf(wanted.entrySet())) {
                if (closed) {
                    return false;
                }
                String path = e.getKey();
                Object value = e.getValue();
                try {
                    if (value == REMOVED) {
                        durable.delete(path);
                    } else {
                        durable.put(path, value);
                    }
                    if (wanted.remove(path, value)) {
                        LOG.debug("forwarding record {} {}", path, value == REMOVED ? "removed" : "stored");
                    }
                } catch (RuntimeException ex) {
                    LOG.debug("forwarding record {} not written yet: {}", path, ex.toString());
                }
            }
            return wanted.isEmpty();
        }
    }

    private synchronized void retrySoon() {
        if (retrier != null || closed) {
            return;
        }
        LOG.warn("runtime {}: {} forwarding records could not be written ({}); writing them once ZooKeeper is back",
            owner, wanted.size(), new TreeSet<>(wanted.keySet()));
        retrier = Thread.ofVirtual().name("circuit-forwarding-records").start(this::retry);
    }

    private void retry() {
        try {
            while (!closed) {
                // a wake-up (the connection is back) or the fallback's time, not a back-off between attempts
                idle = true;
                wake.tryAcquire(fallbackMs, java.util.concurrent.TimeUnit.MILLISECONDS);
                idle = false;
                wake.drainPermits(); // a wake-up from now on, during the attempt, makes another at once
                if (writeWanted()) {
                    synchronized (this) {
                        if (wanted.isEmpty()) { // else one came in while this ended: write it too
                            retrier = null;
                            LOG.info("runtime {}: the forwarding records that waited are written", owner);
                            return;
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** Stops writing; the records not written are logged, as callers that call after the exit will fail. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = retrier;
        }
        if (t != null) {
            t.interrupt();
        }
        try {
            reconnects.close();
        } catch (Exception e) {
            LOG.debug("could not stop listening for reconnections: {}", e.toString());
        }
        giveUp();
    }

    private void giveUp() {
        if (!wanted.isEmpty()) {
            LOG.error("runtime {} closed with forwarding records not written: {}; a caller that calls a service it "
                + "forwarded only after this worker has exited fails instead of following the move",
                owner, new TreeSet<>(wanted.keySet()));
        }
    }
}
