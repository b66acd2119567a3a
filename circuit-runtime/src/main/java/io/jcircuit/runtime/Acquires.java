package io.jcircuit.runtime;

import io.jcircuit.DeadlineExceededException;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.RefDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The acquires this runtime owes: a reference that arrived from a third runtime is acquired at its
 * home (distributed GC, {@link Invoker#acquire}), off the thread that read it, and the runtime it
 * came from is not waited for.
 *
 * <p>Acquires are queued by home, and references to one home share its dial and its threads: at most
 * {@link #MAX_THREADS_PER_HOME} acquires to it run at once. A home this runtime has no session with
 * must be dialed first, and the homes dialed for acquires are bounded per runtime the references came
 * from: at most {@link #MAX_DIALS_PER_SENDER} of its homes are dialed at once, the others wait their
 * turn, nothing is dropped. So a message that carries references to many homes, real or made up,
 * costs this runtime a few connections at a time, not one per reference, and a sender that names
 * homes nobody answers at delays only its own references. A home holds its sender's dial slot until
 * it is linked, or until its queue is empty.
 *
 * <p>Each acquire is answered, once, with what its home counts for it ({@link Outcome}): whether it
 * succeeded, failed or could not be sent, its {@link Owner} is told after it (the release of the same
 * reference waits for that, and gives back only what home can have counted, {@link ImportTable}). An
 * acquire that could not be sent (its home not reached, or not taking it by the deadline) is tried
 * again after a back-off ({@link #RETRY_DELAYS_NANOS}), for as long as its owner still wants it (its
 * reference is reachable), and answered {@link Outcome#NOT_SENT} once the last try failed too: a
 * short outage of its home does not leave a live reference uncounted there. When one could not be
 * sent, its home not being reached, those queued for the same home and address wait for the same
 * retry, rather than each dialing again now: so the queue of a home nobody answers at holds what
 * arrived during one dial, not every reference to it that arrived since it stopped answering.
 *
 * <p>Threading: {@link #acquireSoon} is called from any thread (the one decoding a message) and never
 * blocks; acquires run on virtual threads. State is guarded by this object's monitor, never held
 * across I/O.
 */
final class Acquires {

    private static final Logger LOG = LoggerFactory.getLogger(Acquires.class);

    /** Homes dialed at once for the references that came from one runtime. */
    static final int MAX_DIALS_PER_SENDER = 16;
    /** Acquires to one home that run at once, once it is linked. */
    static final int MAX_THREADS_PER_HOME = 32;

    /**
     * The waits before the tries after the first, of an acquire that could not be sent: about two
     * minutes in all (plus the dials), then it is answered {@link Outcome#NOT_SENT}.
     */
    static final long[] RETRY_DELAYS_NANOS = java.util.stream.LongStream.of(1, 2, 4, 8, 16, 30, 30, 30)
        .map(java.util.concurrent.TimeUnit.SECONDS::toNanos).toArray();

    /** What an acquire's home counts for it, as far as this runtime can tell. */
    enum Outcome {
        /** Home answered that it counted it. */
        COUNTED,
        /**
         * It was sent, and no answer says whether home counted it (the answer was lost, the deadline
         * passed once it was sent, home answered with a failure): its owner must take it as counted,
         * and give it back with its release. Leaking a hold (the object stays until this runtime's
         * session with home ends) is better than freeing an object a live reference still needs.
         */
        UNKNOWN,
        /** It was never sent (its home not reached, at every try; or no longer wanted): home counted nothing. */
        NOT_SENT
    }

    /** Who owes an acquire: told once how it ended. */
    interface Owner {
        /** False once the acquire is not wanted any more (its reference was dropped): it is then not sent, nor tried again. */
        boolean wanted();

        /** The acquire ended ({@code why} says how, for logs and errors); runs once, on an acquiring thread. */
        void answered(Outcome outcome, String why);
    }

    /** One acquire owed: the reference, the runtime it came from (whose dial slots it uses), its owner, the tries so far. */
    private record Owed(RefDescriptor ref, WorkerId from, Owner owner, int tries) {
    }

    /** The acquires owed to one home. */
    private static final class Home {
        final ArrayDeque<Owed> queue = new ArrayDeque<>();
        /** Threads acquiring at this home now; 0 while it waits for a dial slot. */
        int threads;
    }

    /** A sender's dial slots: how many of its homes are being dialed, and the homes waiting for one. */
    private static final class Sender {
        final ArrayDeque<WorkerId> waiting = new ArrayDeque<>();
        int dialing;
    }

    private final Predicate<WorkerId> linked;
    private final Consumer<RefDescriptor> acquire;
    private final Map<WorkerId, Home> homes = new HashMap<>();     // guarded by this
    private final Map<WorkerId, Sender> senders = new HashMap<>(); // guarded by this
    private final long[] retryDelaysNanos;
    /** The threads waiting to try acquires again; guarded by this. */
    private final java.util.Set<Thread> retrying = new java.util.HashSet<>();
    /** Set by {@link #close}: nothing is tried again; guarded by this. */
    private boolean closed;
    /** Acquires asked for ({@link #acquireSoon}), and answered, since this was made; guarded by this. */
    private long requested;
    private long answered;

    /**
     * @param linked  whether this runtime has a live session with a worker (no dial needed)
     * @param acquire acquires one reference at its home, blocking; a failure it throws is logged
     */
    Acquires(Predicate<WorkerId> linked, Consumer<RefDescriptor> acquire) {
        this(linked, acquire, RETRY_DELAYS_NANOS);
    }

    /** With {@code retryDelaysNanos} for {@link #RETRY_DELAYS_NANOS}: for tests. */
    Acquires(Predicate<WorkerId> linked, Consumer<RefDescriptor> acquire, long[] retryDelaysNanos) {
        this.linked = linked;
        this.acquire = acquire;
        this.retryDelaysNanos = retryDelaysNanos.clone();
    }

    /**
     * Acquires {@code d}, which arrived from {@code from}, at its home soon, and then tells
     * {@code owner} (on the acquiring thread) how it ended, whatever the outcome; does not block.
     */
    void acquireSoon(RefDescriptor d, WorkerId from, Owner owner) {
        synchronized (this) {
            requested++;
        }
        enqueue(new Owed(d, from, owner, 0));
    }

    /** Queues {@code owed} at its home, starting a thread for it when the home has none and may have one. */
    private void enqueue(Owed owed) {
        WorkerId home = owed.ref().home();
        WorkerId from = owed.from();
        WorkerId dialSlotOf;
        synchronized (this) {
            Home h = homes.get(home);
            if (h != null) {
                h.queue.add(owed);
                if (!widen(home, h)) {
                    return; // a thread of its home takes it, or its turn to be dialed comes
                }
                dialSlotOf = null;
            } else {
                h = new Home();
                h.queue.add(owed);
                homes.put(home, h);
                dialSlotOf = linked.test(home) ? null : from;
                if (dialSlotOf != null) {
                    Sender s = senders.computeIfAbsent(from, k -> new Sender());
                    if (s.dialing >= MAX_DIALS_PER_SENDER) {
                        s.waiting.add(home);
                        return;
                    }
                    s.dialing++;
                }
                h.threads = 1;
            }
        }
        start(home, dialSlotOf);
    }

    /** Guarded: true (and counted) when another thread should acquire at a linked home with a queue. */
    private boolean widen(WorkerId home, Home h) {
        if (h.threads == 0 || h.threads >= MAX_THREADS_PER_HOME || h.queue.size() <= h.threads || !linked.test(home)) {
            return false;
        }
        h.threads++;
        return true;
    }

    /** Starts a thread that acquires at {@code home}, holding a dial slot of {@code dialSlotOf} (null: none). */
    private void start(WorkerId home, WorkerId dialSlotOf) {
        Thread.ofVirtual().name("circuit-acquire").start(() -> drain(home, dialSlotOf));
    }

    /**
     * Acquires what {@code home} is owed until its queue is empty; the dial slot of {@code dialSlotOf}
     * (null: none) goes on once the home is linked, or at the end.
     */
    private void drain(WorkerId home, WorkerId dialSlotOf) {
        WorkerId holds = dialSlotOf;
        try {
            while (true) {
                Owed owed;
                boolean more;
                synchronized (this) {
                    Home h = homes.get(home);
                    owed = h.queue.poll();
                    if (owed == null) {
                        if (--h.threads == 0) {
                            homes.remove(home);
                        }
                        return;
                    }
                    more = widen(home, h);
                }
                if (more) {
                    start(home, null);
                }
                if (!wanted(owed)) {
                    answer(owed, Outcome.NOT_SENT, "its reference was dropped before it was sent");
                    continue;
                }
                RuntimeException failed = null;
                try {
                    acquire.accept(owed.ref());
                } catch (RuntimeException e) {
                    failed = e;
                } catch (Error e) {
                    // this acquire's alone (an interceptor's StackOverflowError, an OutOfMemoryError that may
                    // pass): rethrown, it ended this thread with the home's thread count still taken, and
                    // the home's queue was never drained again
                    LOG.error("acquiring {} at {} failed", owed.ref().handle(), home, e);
                    answer(owed, Outcome.UNKNOWN, e.toString());
                    continue;
                }
                if (failed == null) {
                    answer(owed, Outcome.COUNTED, "acquired");
                } else {
                    LOG.debug("cannot acquire {} at {}: {}", owed.ref().handle(), home, failed.toString());
                    if (!notSent(failed)) {
                        answer(owed, Outcome.UNKNOWN, failed.toString()); // sent: home may have counted it
                    } else if (!linked.test(home)) { // not a busy session's deadline: no dial worked
                        tryAgain(owedAt(home, owed), failed.toString());
                    } else {
                        tryAgain(java.util.List.of(owed), failed.toString());
                    }
                }
                if (holds != null && linked.test(home)) {
                    dialDone(holds);
                    holds = null;
                }
            }
        } finally {
            if (holds != null) {
                dialDone(holds);
            }
        }
    }

    /** True when {@code e} says that an acquire was not sent: not dialed (refused, no answer, gone) or not taken by the deadline. */
    private static boolean notSent(RuntimeException e) {
        return e instanceof WorkerDiedException w && !w.outcomeUnknown()
            || e instanceof DeadlineExceededException d && !d.outcomeUnknown();
    }

    /**
     * {@code owed}, which could not be sent to its home's address: with it, the acquires queued for the
     * same home and address now, taken out of the queue to be tried again with it rather than each
     * dialing now. They would have failed the same way, one dial after the other (up to the connect
     * timeout each, at an address that takes connections and never answers), while more arrived: the
     * queue of a home nobody answers at grew for as long as references to it kept coming, each holding
     * its reference's release back. Acquires queued later dial again.
     */
    private java.util.List<Owed> owedAt(WorkerId home, Owed owed) {
        java.util.List<Owed> batch = new java.util.ArrayList<>();
        batch.add(owed);
        synchronized (this) {
            Home h = homes.get(home);
            for (java.util.Iterator<Owed> it = h.queue.iterator(); it.hasNext(); ) {
                Owed o = it.next();
                if (o.ref().address().equals(owed.ref().address())) { // one at another address may reach it yet
                    batch.add(o);
                    it.remove();
                }
            }
        }
        if (batch.size() > 1) {
            LOG.debug("{} acquires at {} not sent: {} could not be reached", batch.size(), home, owed.ref().address());
        }
        return batch;
    }

    /**
     * {@code batch} could not be sent ({@code why}): each is tried again after the next back-off, if
     * still wanted then, or answered {@link Outcome#NOT_SENT} when it has had all its tries. One
     * virtual thread waits for the whole batch.
     */
    private void tryAgain(java.util.List<Owed> batch, String why) {
        java.util.List<Owed> again = new java.util.ArrayList<>();
        java.util.List<Owed> done = new java.util.ArrayList<>();
        synchronized (this) {
            for (Owed o : batch) {
                (o.tries() < retryDelaysNanos.length && !closed ? again : done).add(o);
            }
            if (!again.isEmpty()) {
                long delay = retryDelaysNanos[again.stream().mapToInt(Owed::tries).min().orElseThrow()];
                Thread t = Thread.ofVirtual().name("circuit-acquire-retry").unstarted(() -> retryAfter(again, delay));
                retrying.add(t);
                t.start();
            }
        }
        for (Owed o : done) {
            answer(o, Outcome.NOT_SENT, "not sent in " + (o.tries() + 1) + " tries: " + why);
        }
    }

    /** Waits {@code delayNanos} (less when closed), then queues {@code batch} again, each that is still wanted. */
    private void retryAfter(java.util.List<Owed> batch, long delayNanos) {
        long until = System.nanoTime() + delayNanos;
        boolean stop;
        while (true) {
            synchronized (this) {
                stop = closed;
            }
            long left = until - System.nanoTime();
            if (stop || left <= 0) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(left);
        }
        synchronized (this) {
            retrying.remove(Thread.currentThread());
        }
        for (Owed o : batch) {
            if (stop || !wanted(o)) {
                answer(o, Outcome.NOT_SENT, stop ? "this runtime closed" : "its reference was dropped before it was sent");
            } else {
                enqueue(new Owed(o.ref(), o.from(), o.owner(), o.tries() + 1));
            }
        }
    }

    private static boolean wanted(Owed o) {
        try {
            return o.owner().wanted();
        } catch (RuntimeException e) {
            LOG.warn("asking whether an acquire at {} is wanted failed", o.ref().home(), e);
            return true;
        }
    }

    /** Tells {@code o}'s owner how it ended; once. */
    private void answer(Owed o, Outcome outcome, String why) {
        try {
            o.owner().answered(outcome, why);
        } catch (RuntimeException e) {
            LOG.warn("answering an acquire at {} failed", o.ref().home(), e);
        } finally {
            synchronized (this) {
                answered++;
            }
        }
    }

    /**
     * This runtime closes: acquires waiting to be tried again are answered {@link Outcome#NOT_SENT} at
     * once, and none is tried again from now on (each would find the runtime closed). Idempotent.
     */
    void close() {
        java.util.List<Thread> waiting;
        synchronized (this) {
            closed = true;
            waiting = java.util.List.copyOf(retrying);
        }
        waiting.forEach(java.util.concurrent.locks.LockSupport::unpark);
    }

    /** How many acquires were asked for ({@link #acquireSoon}) since this was made, for tests. */
    synchronized long requested() {
        return requested;
    }

    /** How many of those have been answered, whatever the outcome, for tests. */
    synchronized long answered() {
        return answered;
    }

    /** How many batches of acquires wait to be tried again, for tests. */
    synchronized int retrying() {
        return retrying.size();
    }

    /** How many acquires wait in the queues of their homes, for tests. */
    synchronized int queued() {
        int n = 0;
        for (Home h : homes.values()) {
            n += h.queue.size();
        }
        return n;
    }

    /** The homes owed acquires now, dialed, linked or waiting for a dial slot; for tests. */
    synchronized int homesOwed() {
        return homes.size();
    }

    /** The homes being dialed now, for every sender; for tests. */
    synchronized int dialing() {
        return senders.values().stream().mapToInt(s -> s.dialing).sum();
    }

    /** A dial for a home of {@code from} is over: its next waiting home gets the slot. */
    private void dialDone(WorkerId from) {
        WorkerId next;
        synchronized (this) {
            Sender s = senders.get(from);
            next = s.waiting.poll();
            if (next == null) {
                if (--s.dialing == 0) {
                    senders.remove(from);
                }
                return;
            }
            homes.get(next).threads = 1;
        }
        start(next, from);
    }
}
