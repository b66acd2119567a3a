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
 * <p>Each acquire is answered, once: whether it succeeded, failed or could not be sent, its
 * {@code answered} action runs after it (the release of the same reference waits for that,
 * {@link ImportTable}). When one could not be sent, its home not being reached, those queued for the
 * same home and address are answered at once, unsent, rather than each dialing again: so the queue
 * of a home nobody answers at holds what arrived during one dial, not every reference to it that
 * arrived since it stopped answering.
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

    /** One acquire owed, and what to run once it has been answered. */
    private record Owed(RefDescriptor ref, Runnable answered) {
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

    /**
     * @param linked  whether this runtime has a live session with a worker (no dial needed)
     * @param acquire acquires one reference at its home, blocking; a failure it throws is logged
     */
    Acquires(Predicate<WorkerId> linked, Consumer<RefDescriptor> acquire) {
        this.linked = linked;
        this.acquire = acquire;
    }

    /**
     * Acquires {@code d}, which arrived from {@code from}, at its home soon, and then runs
     * {@code answered} (on the acquiring thread), whatever the outcome; does not block.
     */
    void acquireSoon(RefDescriptor d, WorkerId from, Runnable answered) {
        WorkerId home = d.home();
        WorkerId dialSlotOf;
        Owed owed = new Owed(d, answered);
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
                boolean unreachable = false;
                try {
                    acquire.accept(owed.ref());
                } catch (RuntimeException e) {
                    LOG.debug("cannot acquire {} at {}: {}", owed.ref().handle(), home, e.toString());
                    unreachable = notSent(e) && !linked.test(home); // not a busy session's deadline: no dial worked
                } finally {
                    owed.answered().run();
                }
                if (unreachable) {
                    answerUnsent(home, owed.ref().address());
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
     * An acquire at {@code home} could not be sent to {@code address}: the acquires queued for it there
     * now are answered as failed too, without a dial each. They would have failed the same way, one
     * dial after the other (up to the connect timeout each, at an address that takes connections and
     * never answers), while more arrived: the queue of a home nobody answers at grew for as long as
     * references to it kept coming, each holding its reference's release back. Acquires queued later
     * dial again.
     */
    private void answerUnsent(WorkerId home, io.jcircuit.Address address) {
        java.util.List<Owed> failed = new java.util.ArrayList<>();
        synchronized (this) {
            Home h = homes.get(home);
            for (java.util.Iterator<Owed> it = h.queue.iterator(); it.hasNext(); ) {
                Owed o = it.next();
                if (o.ref().address().equals(address)) { // one at another address may reach it yet
                    failed.add(o);
                    it.remove();
                }
            }
        }
        if (!failed.isEmpty()) {
            LOG.debug("{} acquires at {} not sent: {} could not be reached", failed.size(), home, address);
        }
        for (Owed o : failed) {
            try {
                o.answered().run();
            } catch (RuntimeException e) {
                LOG.warn("answering an acquire at {} failed", home, e);
            }
        }
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
