package io.jcircuit.runtime;

import io.jcircuit.Durable;
import io.jcircuit.WorkerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The forwarding records of this runtime's hot swaps in the durable store ({@link ForwardChains}):
 * what a caller that calls a forwarded service only after this worker exited follows, and their
 * deletion once they lead only to ended workers. A record that cannot be written now (ZooKeeper is
 * away) is not dropped: it stays wanted, and is written as soon as the namespace's connection is back
 * ({@link io.jcircuit.anchor.Namespace#whenConnected}), or at the latest every {@link #RETRY_FALLBACK_MS}
 * (for a write that failed while the connection stayed up). Only the last wish for a record counts: a
 * rolled-back swap's removal replaces a store not yet written. The same holds for a deletion of the
 * records that lead to an ended worker ({@link #forgetEnded}): it waits for ZooKeeper, and is never lost
 * while this runtime runs.
 *
 * <p>{@link #unwritten()} says how many records are still wanted; a retiring worker waits for none
 * before it exits ({@code OpsService.retire}). {@link #close} gives up and logs what was not written,
 * and, when ZooKeeper is there, deletes the records that lead only to this runtime's objects: it ends
 * (its host does the same when it sees the process end, crashed or not).
 *
 * <p>Threading: {@link #store}, {@link #remove} and {@link #forgetEnded} are called from any thread; they
 * write at once, on the caller's thread, unless earlier work is still waiting (then it joins it, and the
 * caller is not held up by an outage it would only wait out). Writes are serialized, so that a removal
 * never lands before the store it undoes; they all go to the one ZooKeeper ensemble, which a lock held
 * across them cannot make any slower for others.
 */
final class ForwardingRecords implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingRecords.class);

    /** The longest wait between two attempts when no reconnection wakes the retrier first. */
    static final long RETRY_FALLBACK_MS = 30_000;

    /**
     * What a record is to be: the replacement to store (an object of worker {@code to}), or none (a
     * removal, and {@code to} null); and its index entry.
     */
    private record Wish(Object replacement, String index, WorkerId to) {
    }

    private final Durable durable;
    private final WorkerId owner;
    private final ForwardChains chains;
    /** Whether the namespace's connection is up: {@link #close} deletes nothing without it. */
    private final BooleanSupplier connected;
    /** Removes the entries an ended worker left, if any, before its records are deleted. */
    private final java.util.function.Consumer<WorkerId> removeLeftEntries;
    /** The records not yet written, by path. */
    private final Map<String, Wish> wanted = new ConcurrentHashMap<>();
    /** The index entry of each record stored, by the record's path: what a removal deletes with it. */
    private final Map<String, String> indexes = new ConcurrentHashMap<>();
    /** The ended workers whose records are still to be deleted. */
    private final Set<WorkerId> toForget = ConcurrentHashMap.newKeySet();
    /** Whether the records of every ended worker are to be deleted ({@link #forgetAllEnded}). */
    private final java.util.concurrent.atomic.AtomicBoolean sweepAll = new java.util.concurrent.atomic.AtomicBoolean();
    /** Serializes the writes (a lock across ZooKeeper calls: see the class comment). */
    private final Object writing = new Object();
    /** Released when the connection is back: the retrier tries again at once. */
    private final Semaphore wake = new Semaphore(0);
    private final AutoCloseable reconnects;
    private volatile long fallbackMs = RETRY_FALLBACK_MS;
    private Thread retrier; // guarded by this
    /** True while the retrier waits for the connection to come back (or the fallback's time). */
    private volatile boolean idle;
    private volatile boolean closed;

    /**
     * @param chains     the records of every runtime, and the rule by which they go
     * @param connected  whether the namespace's connection is up now
     * @param reconnects registers what to run each time the connection is back; returns its handle
     * @param removeLeftEntries removes the entries that a worker {@link #forgetEnded} is told of left, if
     *                   any (its host could not remove them at its end: ZooKeeper was away); throws when
     *                   ZooKeeper is away
     */
    ForwardingRecords(Durable durable, WorkerId owner, ForwardChains chains, BooleanSupplier connected,
                      java.util.function.Function<Runnable, AutoCloseable> reconnects,
                      java.util.function.Consumer<WorkerId> removeLeftEntries) {
        this.durable = Objects.requireNonNull(durable, "durable");
        this.owner = Objects.requireNonNull(owner, "owner");
        this.chains = Objects.requireNonNull(chains, "chains");
        this.connected = Objects.requireNonNull(connected, "connected");
        this.removeLeftEntries = Objects.requireNonNull(removeLeftEntries, "removeLeftEntries");
        this.reconnects = reconnects.apply(() -> {
            if (wake.availablePermits() == 0) {
                wake.release();
            }
        });
    }

    /**
     * This runtime's export {@code handle} is to point at {@code replacement}, export {@code toHandle} of
     * worker {@code to}: written now if it can be, else once it can.
     */
    void store(long handle, Object replacement, WorkerId to, long toHandle) {
        Objects.requireNonNull(replacement, "replacement");
        String path = ForwardChains.recordPath(owner, handle);
        String index = ForwardChains.indexPath(to, toHandle, owner, handle);
        indexes.put(path, index);
        want(path, new Wish(replacement, index, Objects.requireNonNull(to, "to")));
    }

    /** This runtime's export {@code handle} is to have no record; removed now if it can be, else once it can. */
    void remove(long handle) {
        String path = ForwardChains.recordPath(owner, handle);
        want(path, new Wish(null, indexes.remove(path), null));
    }

    /**
     * Worker {@code ended} has ended (its process is gone): the records that lead only to it are deleted,
     * now if they can be, else once ZooKeeper is back. See {@link ForwardChains} for the rule. The entries
     * it left, if any, are removed first, in the same attempt: a record for it that another runtime writes
     * only after this deletion (both waited for ZooKeeper) sees it ended, and deletes itself ({@link #write}).
     */
    void forgetEnded(WorkerId ended) {
        toForget.add(Objects.requireNonNull(ended, "ended"));
        kick();
    }

    /**
     * The records that lead only to workers that have ended, told or not, are deleted, now if they can
     * be, else once ZooKeeper is back: what a worker that ended unseen left. See {@link ForwardChains#forgetAllEnded}.
     */
    void forgetAllEnded() {
        sweepAll.set(true);
        kick();
    }

    /** How many records are still to be written (or removed). */
    int unwritten() {
        return wanted.size();
    }

    /** How many ended workers' records are still to be deleted (the sweep of all of them counting as one). */
    int unforgotten() {
        return toForget.size() + (sweepAll.get() ? 1 : 0);
    }

    /** True while work that failed waits for ZooKeeper's connection to come back; for tests. */
    synchronized boolean waiting() {
        return retrier != null && idle;
    }

    /** Sets the longest wait between two attempts that no reconnection cuts short; for tests. */
    void retryFallback(java.time.Duration wait) {
        fallbackMs = wait.toMillis();
    }

    private void want(String path, Wish wish) {
        wanted.put(path, wish);
        kick();
    }

    /** Does the work that waits, on this thread, unless the retrier does it already or this has closed. */
    private void kick() {
        if (closed) {
            giveUp();
            return;
        }
        synchronized (this) {
            if (retrier != null) {
                if (wake.availablePermits() == 0) {
                    wake.release(); // the retrier does it with the rest, at once
                }
                return;
            }
        }
        if (!workOnce()) {
            retryLater();
        }
    }

    /** Writes each wanted record, and deletes the records of each ended worker, once; true when nothing is left. */
    private boolean workOnce() {
        synchronized (writing) {
            for (var e : List.copyOf(wanted.entrySet())) {
                if (closed) {
                    return false;
                }
                if (write(e.getKey(), e.getValue()) && wanted.remove(e.getKey(), e.getValue())) {
                    LOG.debug("forwarding record {} {}", e.getKey(), e.getValue().replacement() == null ? "removed" : "stored");
                }
            }
            for (WorkerId w : List.copyOf(toForget)) {
                if (closed) {
                    return false;
                }
                try {
                    removeLeftEntries.accept(w);
                    chains.forgetEnded(w);
                    toForget.remove(w);
                } catch (RuntimeException ex) {
                    LOG.debug("the forwarding records that lead to ended worker {} are not deleted yet: {}", w, ex.toString());
                }
            }
            if (sweepAll.get() && !closed) {
                try {
                    sweepAll.set(false); // before: a wish that comes in meanwhile makes another sweep
                    chains.forgetAllEnded();
                } catch (RuntimeException ex) {
                    sweepAll.set(true);
                    LOG.debug("the forwarding records that lead to ended workers are not deleted yet: {}", ex.toString());
                }
            }
            return wanted.isEmpty() && toForget.isEmpty() && !sweepAll.get();
        }
    }

    /**
     * One record as wished: its index entry before it, or after it for a removal. A record stored is then
     * deleted again, by the rule, when the worker it points at has ended already: the deletion of what
     * leads to that worker may have run before the record was written (ZooKeeper was away for both, say,
     * as the replacement crashed), and found nothing; run after the write, one of the two finds it.
     */
    private boolean write(String path, Wish wish) {
        try {
            if (wish.replacement() == null) {
                durable.delete(path);
                if (wish.index() != null) {
                    durable.delete(wish.index());
                }
            } else {
                durable.putBytes(wish.index(), ForwardChains.indexValue(path));
                durable.put(path, wish.replacement());
                chains.forgetIfEnded(wish.to()); // it logs what it deleted
            }
            return true;
        } catch (RuntimeException ex) {
            LOG.debug("forwarding record {} not written yet: {}", path, ex.toString());
            return false;
        }
    }

    private synchronized void retryLater() {
        if (retrier != null || closed) {
            return;
        }
        LOG.warn("runtime {}: {} forwarding records could not be written ({}){}; trying again once ZooKeeper is back",
            owner, wanted.size(), new TreeSet<>(wanted.keySet()),
            toForget.isEmpty() ? "" : " nor those of ended workers " + new TreeSet<>(toForget) + " deleted");
        retrier = Thread.ofVirtual().name("circuit-forwarding-records").start(this::retry);
    }

    private void retry() {
        try {
            while (!closed) {
                // a wake-up (the connection is back) or the fallback's time, not a back-off between attempts
                idle = true;
                wake.tryAcquire(fallbackMs, TimeUnit.MILLISECONDS);
                idle = false;
                wake.drainPermits(); // a wake-up from now on, during the attempt, makes another at once
                if (workOnce()) {
                    synchronized (this) {
                        if (wanted.isEmpty() && toForget.isEmpty() && !sweepAll.get()) { // else some came in while this ended: do them too
                            retrier = null;
                            LOG.info("runtime {}: the forwarding records that waited for ZooKeeper are written", owner);
                            return;
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /**
     * Stops writing; the records not written are logged, as callers that call after the exit will fail.
     * Then, when ZooKeeper is there, deletes the records that lead only to this runtime (it ends); when it
     * is not, this runtime's host does when it sees the process end.
     */
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
        if (connected.getAsBoolean()) {
            synchronized (writing) {
                try {
                    chains.forgetEnded(owner);
                } catch (RuntimeException e) {
                    LOG.debug("runtime {} could not delete the forwarding records that lead to it: {}", owner, e.toString());
                }
            }
        }
    }

    private void giveUp() {
        if (!wanted.isEmpty()) {
            LOG.error("runtime {} closed with forwarding records not written: {}; a caller that calls a service it "
                + "forwarded only after this worker has exited fails instead of following the move",
                owner, new TreeSet<>(wanted.keySet()));
        }
        if (!toForget.isEmpty()) {
            LOG.warn("runtime {} closed before it could delete the forwarding records that lead to ended workers {};"
                + " they stay in the durable store under {}", owner, new TreeSet<>(toForget), ForwardChains.MOVED);
        }
    }
}
