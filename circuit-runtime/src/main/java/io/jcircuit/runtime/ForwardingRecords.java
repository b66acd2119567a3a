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
 * across them cannot make any slower for others. The hosts, which alone can tell whether a worker with
 * no {@code /worker} entry and no link has ended, are asked without that lock ({@link Liveness#hostsMayRun}):
 * what to ask is decided under it, the answers are used under it again, after the worker's own signs
 * of life are looked at anew, and only then is anything deleted. One thread asks about a worker at a
 * time; another that needs the same answer leaves that worker's records to it.
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
    /**
     * The workers whose records go if they have ended ({@link ForwardChains#forgetEnded}): the one a
     * record just written points at, and those whose end only the hosts can tell.
     */
    private final Set<WorkerId> toCheck = ConcurrentHashMap.newKeySet();
    /**
     * The records written whose writer has yet to look whether the worker they point at has ended (it is in
     * {@link #toCheck}, to be asked of the hosts), by path: they count as {@link #unwritten} until then.
     */
    private final Map<String, Wish> checking = new ConcurrentHashMap<>();
    /** Serializes the writes (a lock across ZooKeeper calls, never across a call to a host: see the class comment). */
    private final Object writing = new Object();
    /** The workers some thread asks the hosts about now; guarded by {@link #writing}. */
    private final Set<WorkerId> asking = new java.util.HashSet<>();
    /**
     * The hosts' answers (whether one may run the worker) that the thread that asked for them uses, for the
     * one pass it makes with them; guarded by {@link #writing}, and empty outside that pass.
     */
    private final Map<WorkerId, Boolean> answered = new java.util.HashMap<>();
    /**
     * The workers whose records were kept only because a host could not say whether it runs them (paused,
     * cut off, of an older build), with how many times they were asked about: asked again, {@link #fallbackMs}
     * apart, so that their records go once that host has gone or answers. Before, they stayed until a host
     * daemon started.
     */
    private final Map<WorkerId, Integer> unsure = new ConcurrentHashMap<>();
    /** Released when the connection is back: the retrier tries again at once. */
    private final Semaphore wake = new Semaphore(0);
    private final AutoCloseable reconnects;
    private volatile long fallbackMs = RETRY_FALLBACK_MS;
    private Thread retrier; // guarded by this
    /** Whether work failed (ZooKeeper away) since the retrier started, not only a recheck; guarded by this. */
    private boolean failedWork;
    /** True while the retrier waits for the connection to come back (or the fallback's time). */
    private volatile boolean idle;
    private volatile boolean closed;

    /** How the records learn whether a worker has ended, for good, in two parts ({@link CircuitRuntime#signsOfLife}). */
    interface Liveness {
        /**
         * True when {@code worker} lives, or may, as far as can be told without asking another runtime. Called
         * under the records' lock; throws when ZooKeeper is away.
         */
        Signs signsOfLife(WorkerId worker);

        /**
         * Of {@code workers}, those that some host runs or may run (one that cannot be asked may run any): the
         * hosts are asked at once, within one limit. Never called under the records' lock; throws when
         * ZooKeeper is away.
         */
        HostsSaid hostsMayRun(Set<WorkerId> workers);
    }

    /** A worker's own signs of life, as far as can be told without asking another runtime. */
    enum Signs {
        /** It is this runtime, has a {@code /worker} entry, or the process this runs in knows it to run. */
        FILED,
        /** Only a session with it that is connected: it may have ended a moment ago. */
        LINKED,
        /** None. */
        NONE
    }

    /**
     * What the hosts said: the workers that one runs or may run, and whether every host said which it runs
     * (when one could not, it may run any of them, and they are asked about again later: {@link #unsure}).
     */
    record HostsSaid(Set<WorkerId> mayRun, boolean everyHostSaid) {
    }

    /**
     * How many times a worker kept only because a host could not say whether it runs it is asked about again,
     * {@link #fallbackMs} apart, before its records are left to a host daemon's next start.
     */
    static final int MAX_RECHECKS = 20;

    /** Rounds of asking the hosts in one attempt at most: one more step down a chain each (they do not arise: a guard). */
    private static final int MAX_ROUNDS = 64;

    private final Liveness liveness;

    /**
     * @param liveness   whether a worker has ended, for good: what the rule by which records go needs
     * @param connected  whether the namespace's connection is up now
     * @param reconnects registers what to run each time the connection is back; returns its handle
     * @param removeLeftEntries removes the entries that a worker {@link #forgetEnded} is told of left, if
     *                   any (its host could not remove them at its end: ZooKeeper was away); throws when
     *                   ZooKeeper is away
     */
    ForwardingRecords(Durable durable, WorkerId owner, Liveness liveness, BooleanSupplier connected,
                      java.util.function.Function<Runnable, AutoCloseable> reconnects,
                      java.util.function.Consumer<WorkerId> removeLeftEntries) {
        this.durable = Objects.requireNonNull(durable, "durable");
        this.owner = Objects.requireNonNull(owner, "owner");
        this.liveness = Objects.requireNonNull(liveness, "liveness");
        this.chains = new ForwardChains(durable, this::endedOf);
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

    /**
     * How many records are still to be written (or removed), with those written whose writer has not yet
     * looked whether the worker they point at has ended ({@link #write}).
     */
    int unwritten() {
        return wanted.size() + checking.size();
    }

    /**
     * How many ended workers' records are still to be deleted (the sweep of all of them counting as one), with
     * the workers whose end is still to be told (by the hosts, say).
     */
    int unforgotten() {
        return toForget.size() + toCheck.size() + (sweepAll.get() ? 1 : 0);
    }

    /** True while work that failed waits for ZooKeeper's connection to come back; for tests. */
    synchronized boolean waiting() {
        return retrier != null && failedWork && idle;
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
        } else if (!unsure.isEmpty()) {
            recheckLater();
        }
    }

    /**
     * Starts the retrier, unless it runs, to ask again about the workers in {@link #unsure} once {@link
     * #fallbackMs} has passed.
     */
    private synchronized void recheckLater() {
        if (retrier != null || closed) {
            return;
        }
        LOG.info("runtime {}: the forwarding records that lead to {} are kept: a host could not say whether it runs"
            + " them; asking again in {} s", owner, new TreeSet<>(unsure.keySet()), fallbackMs / 1000);
        retrier = Thread.ofVirtual().name("circuit-forwarding-records").start(this::retry);
    }

    /** Puts the workers of {@link #unsure} to be looked at again, those asked about too often aside. */
    private void recheckUnsure() {
        for (var e : Map.copyOf(unsure).entrySet()) {
            if (e.getValue() > MAX_RECHECKS) {
                unsure.remove(e.getKey(), e.getValue());
                LOG.info("runtime {}: no longer asks whether a host runs {}; the forwarding records that lead to it"
                    + " go when a host daemon starts, if it has ended", owner, e.getKey());
            } else {
                toCheck.add(e.getKey());
            }
        }
    }

    /**
     * Writes each wanted record, and deletes the records of each ended worker, once, asking the hosts (without
     * the lock) about the workers whose end only they can tell and going on with their answers; true when
     * nothing is left but workers another thread asks about now (it goes on with them).
     */
    private boolean workOnce() {
        Map<WorkerId, Boolean> answers = Map.of();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            Set<WorkerId> ask;
            synchronized (writing) {
                asking.removeAll(answers.keySet());
                answered.putAll(answers);
                boolean failed;
                try {
                    failed = !pass();
                } finally {
                    answered.clear();
                }
                if (failed || closed) {
                    return false;
                }
                ask = new java.util.HashSet<>(toCheck);
                ask.removeAll(asking); // another thread asks about those, and goes on with them
                if (ask.isEmpty()) {
                    return nothingLeft();
                }
                asking.addAll(ask);
            }
            answers = askHosts(ask);
            if (answers == null) {
                synchronized (writing) {
                    asking.removeAll(ask);
                }
                return false; // ZooKeeper away: for the retrier, which asks again
            }
        }
        synchronized (writing) {
            asking.removeAll(answers.keySet());
        }
        LOG.warn("runtime {}: the forwarding records that lead to {} are not looked at yet: {} rounds of asking the hosts"
            + " did not get to the end of their chains", owner, new TreeSet<>(toCheck), MAX_ROUNDS);
        return false;
    }

    /** Whether no work is left but what another thread asks the hosts about now (it goes on with it). */
    private boolean nothingLeft() {
        synchronized (writing) {
            return wanted.isEmpty() && toForget.isEmpty() && !sweepAll.get() && asking.containsAll(toCheck);
        }
    }

    /**
     * Asks the hosts whether they may run {@code workers}: an answer for every one of them, or null when the
     * hosts could not be listed (ZooKeeper away).
     */
    private Map<WorkerId, Boolean> askHosts(Set<WorkerId> workers) {
        HostsSaid said;
        try {
            said = liveness.hostsMayRun(workers);
        } catch (RuntimeException ex) {
            LOG.debug("the hosts could not be asked whether they run {}: {}", workers, ex.toString());
            return null;
        }
        Map<WorkerId, Boolean> answers = new java.util.HashMap<>();
        for (WorkerId w : workers) {
            answers.put(w, said.mayRun().contains(w));
            if (said.everyHostSaid()) {
                unsure.remove(w);
            } else if (!closed) {
                unsure.merge(w, 1, Integer::sum);
            }
        }
        return answers;
    }

    /**
     * Whether {@code worker} has ended, for good, as far as is known now: its own signs of life, looked at
     * now, and the hosts' answer, if the thread that runs this asked for it. Holds {@link #writing}.
     */
    private ForwardChains.Ended endedOf(WorkerId worker) {
        Signs signs = liveness.signsOfLife(worker);
        if (signs == Signs.FILED) {
            return ForwardChains.Ended.NO;
        }
        Boolean mayRun = answered.get(worker);
        if (mayRun == null) {
            return ForwardChains.Ended.ASK; // also when only linked: its host can tell a process that has ended
        }
        if (mayRun) {
            return ForwardChains.Ended.NO;
        }
        return signs == Signs.LINKED ? ForwardChains.Ended.LINKED : ForwardChains.Ended.YES;
    }

    /**
     * One pass over the work, under {@link #writing}: writes each wanted record, deletes the records of each
     * ended worker and of each worker to check that has ended (by what {@link #answered} holds), and leaves
     * in {@link #toCheck} the workers whose end only the hosts can tell. False when some of it failed
     * (ZooKeeper away) or this closed: then it is for the retrier.
     */
    private boolean pass() {
        try {
            return passOnce();
        } finally {
            // those whose end only the hosts can tell, met on the way: asked once this pass has let go of the lock
            toCheck.addAll(chains.takeToAsk());
        }
    }

    private boolean passOnce() {
        boolean failed = false;
        for (var e : List.copyOf(wanted.entrySet())) {
            if (closed) {
                return false;
            }
            if (!write(e.getKey(), e.getValue())) {
                continue;
            }
            if (e.getValue().replacement() != null) {
                // counted as unwritten until the worker it points at is looked at, below: put before it leaves wanted
                checking.put(e.getKey(), e.getValue());
                toCheck.add(e.getValue().to());
            }
            if (wanted.remove(e.getKey(), e.getValue())) {
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
                failed = true;
                LOG.debug("the forwarding records that lead to ended worker {} are not deleted yet: {}", w, ex.toString());
            }
        }
        if (sweepAll.get() && !closed) {
            try {
                sweepAll.set(false); // before: a wish that comes in meanwhile makes another sweep
                chains.forgetAllEnded();
            } catch (RuntimeException ex) {
                sweepAll.set(true);
                failed = true;
                LOG.debug("the forwarding records that lead to ended workers are not deleted yet: {}", ex.toString());
            }
        }
        for (WorkerId w : List.copyOf(toCheck)) {
            if (closed) {
                return false;
            }
            if (asking.contains(w)) {
                continue; // the thread that asks about it goes on with it
            }
            try {
                ForwardChains.Ended ended = endedOf(w);
                if (ended == ForwardChains.Ended.ASK) {
                    continue; // asked of the hosts once this pass has let go of the lock
                }
                chains.forgetIfEnded(w); // it logs what it deleted, and deletes the tombstones this run kept for w
                toCheck.remove(w);
                checking.values().removeIf(wish -> wish.to().equals(w));
            } catch (RuntimeException ex) {
                failed = true;
                LOG.debug("the forwarding records that lead to worker {} are not looked at yet: {}", w, ex.toString());
            }
        }
        return !failed && wanted.isEmpty();
    }

    /**
     * One record as wished: its index entry before it, or after it for a removal. A record stored is then
     * deleted again, by the rule, when the worker it points at has ended already: the deletion of what
     * leads to that worker may have run before the record was written (ZooKeeper was away for both, say,
     * as the replacement crashed), and found nothing; run after the write, one of the two finds it. That
     * worker is looked at by the pass that wrote it ({@link #checking}), or once the hosts have answered
     * when only they can tell.
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
            }
            return true;
        } catch (RuntimeException ex) {
            LOG.debug("forwarding record {} not written yet: {}", path, ex.toString());
            return false;
        }
    }

    private synchronized void retryLater() {
        if (closed) {
            return;
        }
        failedWork = true;
        if (retrier != null) {
            return; // a recheck's: it tries this again too, woken by the connection's return
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
                recheckUnsure();
                if (workOnce()) {
                    synchronized (this) {
                        if (nothingLeft() && unsure.isEmpty()) { // else some came in while this ended: do them too
                            retrier = null;
                            if (failedWork) {
                                LOG.info("runtime {}: the forwarding records that waited for ZooKeeper are written", owner);
                            }
                            failedWork = false;
                            return;
                        }
                    }
                } else {
                    synchronized (this) {
                        failedWork = true; // ZooKeeper went away during a recheck
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
            forgetOwn();
        }
    }

    /**
     * As this runtime closes: deletes the records that lead only to it, and down their chains, asking the
     * hosts (without the lock) about the old workers whose end only they can tell.
     */
    private void forgetOwn() {
        Map<WorkerId, Boolean> answers = Map.of();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            Set<WorkerId> ask;
            synchronized (writing) {
                answered.putAll(answers);
                try {
                    if (round == 0) {
                        chains.forgetEnded(owner);
                    } else {
                        for (WorkerId w : answers.keySet()) {
                            chains.forgetIfEnded(w);
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.debug("runtime {} could not delete the forwarding records that lead to it: {}", owner, e.toString());
                    return;
                } finally {
                    answered.clear();
                    ask = chains.takeToAsk();
                }
            }
            if (ask.isEmpty()) {
                return;
            }
            answers = askHosts(ask);
            if (answers == null) {
                return; // ZooKeeper away: the host of this runtime deletes them when it sees the process end
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
            // most often there are none: a host whose workers end as it closes is told of each end after it closed
            LOG.info("runtime {} closed before it looked for forwarding records that lead to ended workers {}; any"
                + " stay in the durable store under {} until a host daemon starts (it deletes those that lead nowhere)",
                owner, new TreeSet<>(toForget), ForwardChains.MOVED);
        }
    }
}
