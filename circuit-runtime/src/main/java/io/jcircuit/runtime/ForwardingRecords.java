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
 * cannot be written now (ZooKeeper is away) is not dropped: it stays wanted, and is written again until
 * it is, from a virtual thread that backs off from {@link #RETRY_FIRST_MS} to {@link #RETRY_MAX_MS}.
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

    /** The first wait before a record that could not be written is written again. */
    static final long RETRY_FIRST_MS = 100;
    /** The longest wait between two attempts. */
    static final long RETRY_MAX_MS = 2_000;

    /** What a path is to hold: a removal. Any other value is the replacement to store there. */
    private static final Object REMOVED = new Object();

    private final Durable durable;
    private final String owner;
    /** The records not yet written, by path: the replacement, or {@link #REMOVED}. */
    private final Map<String, Object> wanted = new ConcurrentHashMap<>();
    /** Serializes the writes (a lock across ZooKeeper calls: see the class comment). */
    private final Object writing = new Object();
    private Thread retrier; // guarded by this
    private volatile boolean closed;

    ForwardingRecords(Durable durable, String owner) {
        this.durable = java.util.Objects.requireNonNull(durable, "durable");
        this.owner = owner;
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

    private void want(String path, Object value) {
        wanted.put(path, value);
        if (closed) {
            giveUp();
            return;
        }
        synchronized (this) {
            if (retrier != null) {
                return; // the retrier writes it with the others
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
        LOG.warn("runtime {}: {} forwarding records could not be written ({}); writing them again until they are",
            owner, wanted.size(), new TreeSet<>(wanted.keySet()));
        retrier = Thread.ofVirtual().name("circuit-forwarding-records").start(this::retry);
    }

    private void retry() {
        long waitMs = RETRY_FIRST_MS;
        try {
            while (!closed) {
                Thread.sleep(waitMs); // a back-off between attempts, not a wait for an event
                if (writeWanted()) {
                    synchronized (this) {
                        if (wanted.isEmpty()) { // else one came in while this ended: write it too
                            retrier = null;
                            LOG.info("runtime {}: the forwarding records that waited are written", owner);
                            return;
                        }
                    }
                }
                waitMs = Math.min(RETRY_MAX_MS, waitMs * 2);
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
