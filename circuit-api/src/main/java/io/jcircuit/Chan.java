package io.jcircuit;

import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded channel owned by one runtime ({@link Circuit#makeChan}), usable from any runtime that
 * holds it: pass it as a value and it carries a reference to its owner.
 *
 * <ul>
 *   <li>{@link #send} blocks while the channel is full; {@link #receive} blocks while it is empty.</li>
 *   <li>{@link #close} lets receivers drain what is left; then {@link #receive} throws
 *       {@link ChanClosedException} and iteration ends.</li>
 *   <li>{@link #offer} and {@link #poll} never block.</li>
 *   <li>Items stream in batches. A sender buffers up to {@link #BATCH} items (at most the capacity) and ships them in one
 *       call, which blocks at the owner until they fit: back-pressure, so a fast producer never grows
 *       memory without bound. A buffered item goes out within {@link #LINGER_MILLIS} ms, or at once
 *       on {@link #flush}, {@link #close}, or when the batch is full. A receiver fetches up to
 *       as many at a time into a local buffer.</li>
 *   <li>A send returns once its item is buffered in this copy. A sender that then tells anyone else it
 *       is done (a call, a {@code go}'s answer, an anchor) flushes first: a close that the message sets
 *       off would otherwise find the lingering items not yet in. A runtime that closes ships what its
 *       copies of other runtimes' channels buffered first, for a few seconds at most.</li>
 *   <li>If the owner dies, sends and receives fail with {@link WorkerDiedException}.</li>
 *   <li>A send, flush or close whose thread is interrupted while its batch waits for room fails with
 *       {@link CircuitException}, and that batch is dropped: the owner may already hold some of it.</li>
 *   <li>An item too large for a frame ({@link FrameTooLargeException}), that cannot be written
 *       ({@link UnwritableValueException}) or of a class the owner cannot load ({@link UnreadableValueException})
 *       fails alone at the send, flush or close that ships it, and the other items of its batch go, in order.
 *       When its send had returned (its batch lingered, as any failure of a lingering batch), that is this
 *       copy's next send, flush or close, which throws it once: flush or close a copy to learn of it. A receiver that cannot load the class of an item it fetched
 *       gives the batch back to the owner, receives the items before that one, and then gets
 *       {@link UnreadableValueException} each time that item is next: it stays first in the channel,
 *       for a receiver that can read it.</li>
 *   <li>A receive whose answer comes after its deadline, whose link breaks under it or whose thread is
 *       interrupted gives its batch back with this copy's next receive, ahead of what was lent since (or,
 *       when none follows within half a second, from a thread of its own, which receives of this copy
 *       wait for within their deadlines). The owner lends each batch until this copy's next receive says
 *       it was read, for at most {@link ChanCore#LOAN_MILLIS}, and at most
 *       {@link ChanCore#LOANS_PER_CAPACITY} times its capacity (or 64 items) in all, the oldest loans going
 *       first. A batch whose loan it let go before it came back is lost, as is a late one whose
 *       receiver's runtime closes first, and one from an owner of a build before loans (2026-12).</li>
 * </ul>
 * Items travel by copy, references by reference, as call arguments do. Each copy of a {@code Chan}
 * (in each runtime, or each deserialization) has its own buffers; one copy is thread-safe.
 */
public final class Chan<T> implements Iterable<T>, Serializable {

    @Serial
    private static final long serialVersionUID = 1L;
    /** Most items per batch, either way; a channel of smaller capacity batches by its capacity. */
    public static final int BATCH = 1024;
    /** How long a buffered item may wait for more before it is sent. */
    public static final long LINGER_MILLIS = 1;
    /** The longest one call to the owner waits, so that it stays within any call deadline. */
    static final long WAIT_SLICE_MILLIS = 5_000;
    /** How long loans to give back wait for a receive of their copy to carry them, before a thread of their own does. */
    static final long RETURN_DELAY_NANOS = 500_000_000L;
    /** Most loans a copy keeps to give back; beyond that the oldest are dropped. */
    static final int MOST_UNREAD = 1024;
    /** The deadline of that thread's call to give one back; receives of the copy wait for it. */
    static final java.time.Duration RETURN_CALL_TIMEOUT = java.time.Duration.ofSeconds(2);

    private final ChanCore core;
    private transient volatile Side side;

    /** Wraps the reference to an owner's {@link ChanCore}; {@link Circuit#makeChan} does this. */
    public Chan(ChanCore core) {
        this.core = Objects.requireNonNull(core, "core");
    }

    /** The reference to the owner's core that this copy wraps: what a codec writes for it. */
    public ChanCore core() {
        return core;
    }

    /** The local buffers of this copy, made on first use (they are not serialized). */
    private Side side() {
        Side s = side;
        if (s == null) {
            synchronized (this) {
                if (side == null) {
                    side = new Side();
                }
                s = side;
            }
        }
        return s;
    }

    /**
     * The channel's capacity, for a copy's first operation: a call to the owner when this copy is not
     * its own. Its deadline is the caller's, and a deadline that passes meanwhile is said in the terms
     * of the operation, which took and sent nothing, not of the call (before: "the answer for
     * ChanCore.capacity", a call the caller never made).
     */
    private int askCapacity() {
        try {
            return core.capacity();
        } catch (DeadlineExceededException e) {
            DeadlineExceededException said = new DeadlineExceededException(e.worker(), "the deadline passed while this"
                + " channel copy asked the channel's owner" + (e.worker() == null ? "" : " " + e.worker())
                + " for the channel's capacity, which its first send or receive needs; nothing was sent or taken", true);
            said.initCause(e);
            throw said;
        }
    }

    /**
     * Sends {@code item}, blocking while the channel is full.
     *
     * @throws ChanClosedException when this copy has closed the channel; a send buffered after another
     *         copy closed it fails at this copy's next send, flush or close
     */
    public void send(T item) {
        Objects.requireNonNull(item, "a channel carries no null");
        side().send(item);
    }

    /**
     * Sends {@code item} if it fits now, after what this copy has buffered. It does not wait for room
     * for {@code item}, but items that {@link #send} buffered in this copy go first and wait for room
     * as {@link #flush} does; a copy used only with {@code offer} buffers nothing and never blocks.
     */
    public boolean offer(T item) {
        Objects.requireNonNull(item, "a channel carries no null");
        Side s = side();
        s.checkOpenHere();
        s.flush();
        return core.sendBatch(List.of(item), 0) == 1;
    }

    /** Ships what this copy has buffered now, blocking while the channel is full. */
    public void flush() {
        side().flush();
    }

    /**
     * Ships what every copy for which {@code copiesOf} holds of its {@linkplain #core core} has buffered,
     * each copy on a thread of its own, within the current scope's deadline; returns the failures (those
     * of the copies that could not ship all), empty when all went. Each failure is also kept for its copy's
     * next send, flush or close. A runtime calls it as it closes, for the copies whose calls go through it.
     */
    public static List<RuntimeException> flushBuffered(java.util.function.Predicate<ChanCore> copiesOf) {
        return ChanBuffers.flushAll(Objects.requireNonNull(copiesOf, "copiesOf"));
    }

    /**
     * Receives the next item, blocking while the channel is empty.
     *
     * @throws ChanClosedException when the channel is closed and drained
     */
    @SuppressWarnings("unchecked")
    public T receive() {
        Side s = side();
        T item = (T) s.take(Long.MAX_VALUE);
        if (item == null) {
            throw new ChanClosedException("the channel is closed and drained");
        }
        return item;
    }

    /**
     * The next item if one is there now; empty otherwise (and at the end). It never waits for an item, also
     * not for another thread's receive on this copy: then it finds nothing. On a copy in another runtime it
     * asks the owner (one call), so an owner that does not answer holds it up to the call's deadline.
     */
    @SuppressWarnings("unchecked")
    public Optional<T> poll() {
        return Optional.ofNullable((T) side().take(0));
    }

    /**
     * Ships what this copy buffered, waiting for room as {@link #send} does, then closes the channel
     * for everyone. A copy holding buffered items therefore blocks here while the channel is full and
     * nobody receives. Closing a closed channel does nothing.
     */
    public void close() {
        Side s = side();
        s.closedHere = true;
        try {
            s.flush();
        } catch (ChanClosedException already) {
            // closed by another copy: what this one buffered since could not go; closing again is a no-op
        }
        core.close();
    }

    public int capacity() {
        return core.capacity();
    }

    /** Receives until the channel is closed and drained. */
    @Override
    public Iterator<T> iterator() {
        return new Iterator<>() {
            private T next;
            private boolean done;

            @SuppressWarnings("unchecked")
            @Override
            public boolean hasNext() {
                if (next == null && !done) {
                    next = (T) side().take(Long.MAX_VALUE);
                    done = next == null;
                }
                return next != null;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("the channel is closed and drained");
                }
                T t = next;
                next = null;
                return t;
            }
        };
    }

    @Override
    public String toString() {
        return "Chan(" + core + ")";
    }

    /** One copy's send buffer and receive buffer. */
    private final class Side implements ChanBuffers.Buffer {
        /** Items per batch here: the channel's capacity bounds it, so big items make small batches. */
        private final int batch = Math.max(1, Math.min(BATCH, askCapacity()));
        private final ReentrantLock sendLock = new ReentrantLock();
        private List<Object> out = new ArrayList<>(batch);
        private long firstBuffered;
        private Thread flusher;
        private final ArrayDeque<Object> in = new ArrayDeque<>();
        /** Items asked for per receive: {@link #batch}, halved for good when a batch was too large for a frame. */
        private int receiveBatch = batch;
        private boolean drained;
        private final ReentrantLock receiveLock = new ReentrantLock();
        /** The last loan ({@link ChanCore#receiveLent}) read here, for the next receive to settle; under {@link #receiveLock}. */
        private long readLoan;
        /** Loans to give back to the owner, oldest first: their batches were not taken here; under {@link #receiveLock}. */
        private final ArrayDeque<Long> unread = new ArrayDeque<>();
        /** The thread giving {@link #unread} back when no receive carries them ({@link #returnLater}); under {@link #receiveLock}. */
        private Thread returner;
        /** The owner is of a build without loans: receives use {@link ChanCore#receiveBatch}; under {@link #receiveLock}. */
        private boolean ownerLendsNot;
        /** Why a lingering batch could not be shipped; the next send, flush or close throws it. */
        private RuntimeException failed;
        /**
         * How many items from the start of the batch {@link #ship} last worked on are done with: gone to the
         * owner, or failed alone (too large, unreadable there); under {@link #sendLock}. Counted through halves.
         */
        private int shippedOfLast;

        /**
         * Keeps {@code e}, a failure of a batch that no caller waited for, for this copy's next send, flush or
         * close to throw; one kept already stays first and carries the later one as suppressed. Under {@link #sendLock}.
         */
        private void fail(RuntimeException e) {
            if (failed == null) {
                failed = e;
            } else if (failed != e) {
                failed.addSuppressed(e);
            }
        }

        private void rethrowFailure() {
            RuntimeException f = failed;
            if (f != null) {
                failed = null;
                throw f;
            }
        }

        /** Set by this copy's {@link Chan#close}: a later send here fails at once. */
        private volatile boolean closedHere;

        void checkOpenHere() {
            if (closedHere) {
                throw new ChanClosedException("send on a closed channel (this copy closed it)");
            }
        }

        void send(Object item) {
            checkOpenHere();
            lockWithinDeadline();
            try {
                rethrowFailure();
                if (out.isEmpty()) {
                    firstBuffered = System.nanoTime();
                    wakeFlusher();
                    ChanBuffers.holds(this);
                }
                out.add(item);
                if (out.size() >= batch) {
                    shipBuffered(true); // under the lock: batches of one copy stay in order
                }
            } finally {
                sendLock.unlock();
            }
        }

        void flush() {
            lockWithinDeadline();
            try {
                rethrowFailure();
                if (!out.isEmpty()) {
                    shipBuffered(false);
                }
            } finally {
                sendLock.unlock();
            }
        }

        /**
         * Takes {@link #sendLock} within the current scope's deadline: the lingering batch of an earlier send
         * may hold it for as long as the owner has no room, and a send or flush with a deadline must not wait
         * past it. Without a scope it waits, as the back-pressure of a full channel does.
         *
         * @throws DeadlineExceededException when the deadline passes first; nothing was put in
         */
        private void lockWithinDeadline() {
            lockWithinDeadline(sendLock, "this channel copy's earlier batch, which waits for room at the owner;"
                + " nothing was put in");
        }

        /**
         * Takes {@code lock} within the current scope's deadline, or waits for it without one.
         *
         * @throws DeadlineExceededException when the deadline passes first, naming {@code what} was waited for
         */
        private static void lockWithinDeadline(ReentrantLock lock, String what) {
            java.util.OptionalLong left = Deadline.remainingNanos();
            if (left.isEmpty()) {
                lock.lock();
                return;
            }
            boolean locked;
            try {
                locked = lock.tryLock(Math.max(0, left.getAsLong()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CircuitException("interrupted while waiting for " + what);
            }
            if (!locked) {
                throw new DeadlineExceededException(null, "the deadline passed while waiting for " + what, true);
            }
        }

        /**
         * Ships what is buffered. When the caller's deadline passes before a call for the rest was sent, that
         * rest stays buffered (it was sent by earlier sends that returned, and goes with the next send, flush
         * or the lingering flusher), except the item of a send that filled the batch ({@code lastIsCaller}),
         * which put nothing in. When the answer came too late, whether the owner took the batch is unknown:
         * it is not sent again. Other failures (the channel closed, its owner died) drop the batch, as nothing
         * could take it.
         */
        private void shipBuffered(boolean lastIsCaller) {
            List<Object> items = out;
            out = new ArrayList<>(batch);
            try {
                ship(items);
            } catch (DeadlineExceededException e) {
                // only a batch that was never sent is known not to be in: one whose answer came late (the owner
                // stalled past its margin) may be, and sending it again could put its items in twice
                if (!e.outcomeUnknown()) {
                    List<Object> unsent = new ArrayList<>(items.subList(shippedOfLast, items.size()));
                    if (lastIsCaller && !unsent.isEmpty()) {
                        unsent.removeLast();
                    }
                    out = unsent;
                    if (!out.isEmpty()) {
                        firstBuffered = System.nanoTime();
                        wakeFlusher();
                    }
                }
                throw e;
            } finally {
                settle();
            }
        }

        /** After a batch went or failed: a copy with nothing buffered leaves {@link ChanBuffers}. Under {@link #sendLock}. */
        private void settle() {
            if (out.isEmpty()) {
                ChanBuffers.empty(this);
            }
        }

        @Override
        public ChanCore core() {
            return core;
        }

        @Override
        public RuntimeException flushPending() {
            try {
                lockWithinDeadline();
            } catch (RuntimeException e) {
                return e; // a deadline passed, or the thread was interrupted, first: nothing went, nothing is lost
            }
            try {
                if (!out.isEmpty()) {
                    shipBuffered(false);
                }
                return null;
            } catch (DeadlineExceededException e) {
                if (e.outcomeUnknown()) {
                    fail(e); // whether its items went is unknown: the copy's next send, flush or close says so
                }
                return e;
            } catch (RuntimeException e) {
                fail(e); // no caller waited for these items: the copy's next send, flush or close says what became of them
                return e;
            } finally {
                sendLock.unlock();
            }
        }

        /**
         * Sends all of {@code batch}, in slices of waiting that each fit in a call deadline. A batch
         * too large for one frame, that could not be written, or that the owner could not read, goes in
         * halves; an item too large alone, that cannot be written, or of a class the owner cannot load,
         * fails after the items before it went, and the ones after it still go before the failure is thrown.
         */
        private void ship(List<Object> items) {
            shippedOfLast = 0;
            ship(items, ChanCore.marginNanos(), 0);
        }

        /**
         * {@link #ship(List)} with the margin its operation took when it began; {@code items} start at
         * {@code base} in the batch {@link #shippedOfLast} counts.
         */
        private void ship(List<Object> items, long marginNanos, int base) {
            int sent = 0;
            while (sent < items.size()) {
                long waitNanos = ChanCore.waitNanos(WAIT_SLICE_MILLIS, marginNanos);
                if (waitNanos < 0) {
                    // too little of the caller's deadline is left for the owner to wait and answer in time: a call
                    // sent now would race it, and a late answer leaves unknown whether the owner took the items
                    throw new DeadlineExceededException(null, "the deadline passed before a channel's batch could go"
                        + " (" + sent + " of " + items.size() + " items went)", true);
                }
                // the rest as a plain list: a subList view is not a value that travels
                List<Object> rest = sent == 0 ? items : new ArrayList<>(items.subList(sent, items.size()));
                try {
                    sent += core.sendBatch(rest, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(waitNanos));
                    shippedOfLast = base + sent;
                } catch (FrameTooLargeException | UnwritableValueException | UnreadableValueException oneItem) {
                    // none was put in; the other items may go without the one that caused it
                    if (rest.size() == 1) {
                        shippedOfLast = base + sent + 1; // it failed alone: not to be sent again
                        throw oneItem;
                    }
                    int half = rest.size() / 2;
                    CircuitException first = null;
                    try {
                        ship(new ArrayList<>(rest.subList(0, half)), marginNanos, base + sent);
                    } catch (FrameTooLargeException | UnwritableValueException | UnreadableValueException e) {
                        first = e;
                    }
                    try {
                        ship(new ArrayList<>(rest.subList(half, rest.size())), marginNanos, base + sent + half);
                    } catch (RuntimeException e) {
                        if (first != null) {
                            e.addSuppressed(first);
                        }
                        throw e;
                    }
                    if (first != null) {
                        throw first;
                    }
                    return;
                }
            }
        }

        /** Starts, or wakes, the virtual thread that ships a lingering batch. */
        private void wakeFlusher() {
            if (flusher == null || !flusher.isAlive()) {
                flusher = Thread.ofVirtual().name("chan-flush").start(this::lingerLoop);
            } else {
                LockSupport.unpark(flusher);
            }
        }

        private void lingerLoop() {
            long idleSince = System.nanoTime();
            while (true) {
                long waitNanos;
                sendLock.lock();
                try {
                    if (out.isEmpty()) {
                        if (System.nanoTime() - idleSince > 1_000_000_000L) {
                            flusher = null;
                            return; // idle for a second: a later send starts another
                        }
                        waitNanos = 100_000_000L;
                    } else {
                        idleSince = System.nanoTime();
                        long due = firstBuffered + LINGER_MILLIS * 1_000_000L - System.nanoTime();
                        if (due <= 0) {
                            List<Object> shipped = out;
                            out = new ArrayList<>(batch);
                            try {
                                ship(shipped);
                            } catch (RuntimeException e) {
                                // the channel closed, its owner died, or an item failed alone (the others went):
                                // the next send, flush or close of this copy reports it
                                fail(e);
                            } finally {
                                settle();
                            }
                            continue;
                        }
                        waitNanos = due;
                    }
                } finally {
                    sendLock.unlock();
                }
                LockSupport.parkNanos(waitNanos);
            }
        }

        /**
         * How long to ask the owner to wait for items, {@code waitMillis} at most: within the current
         * scope's deadline ({@link Deadline}) less a margin ({@link ChanCore#waitNanos}). When too little
         * is left for that, this waits the deadline out here and returns 0: that call then fails with
         * {@link DeadlineExceededException} before it reaches the owner, and takes nothing.
         */
        private long ownerWaitMillis(long waitMillis, long marginNanos) {
            if (waitMillis == 0) {
                return 0; // a poll: it never blocks
            }
            long nanos = ChanCore.waitNanos(waitMillis, marginNanos);
            if (nanos >= 0) {
                return java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(nanos);
            }
            long left = Deadline.remainingNanos().orElse(0);
            if (left > 0) {
                LockSupport.parkNanos(left);
            }
            return 0;
        }

        /** A loan's number: random, so that the receivers of one owner do not meet; never 0. */
        private static long newLoan() {
            long loan;
            do {
                loan = java.util.concurrent.ThreadLocalRandom.current().nextLong();
            } while (loan == 0);
            return loan;
        }

        /** The loans to give back, newest first, taken out of {@link #unread}; null when there are none. Under {@link #receiveLock}. */
        private long[] takeUnread() {
            if (unread.isEmpty()) {
                return null;
            }
            long[] ids = new long[unread.size()];
            int i = ids.length;
            for (long id : unread) {
                ids[--i] = id; // newest first: each goes in front of the ones after it
            }
            unread.clear();
            return ids;
        }

        /**
         * Puts {@code ids} (newest first) back into {@link #unread}: the call that carried them may not have
         * reached the owner. Giving a loan back twice does nothing the second time. Under {@link #receiveLock}.
         */
        private void restoreUnread(long[] ids) {
            if (ids != null) {
                for (long id : ids) {
                    unread.addFirst(id); // the oldest ends first
                }
                while (unread.size() > MOST_UNREAD) {
                    unread.removeFirst();
                }
            }
        }

        /** Adds loan {@code loan} to {@link #unread}, dropping the oldest beyond {@link #MOST_UNREAD}; under {@link #receiveLock}. */
        private void addUnread(long loan) {
            unread.addLast(loan);
            if (unread.size() > MOST_UNREAD) {
                unread.removeFirst(); // a long partition's failed receives: the oldest most likely never went
            }
        }

        /**
         * Gives the loan of a batch that could not be read here back to the owner; returns how many items
         * went back (0: none were held, or the owner's build lends nothing), or -1 when the owner could not
         * be asked now: then it is given back later ({@link #returnLater}). Under {@link #receiveLock}.
         */
        private int giveBackUnreadable(long loan, UnreadableValueException unreadable) {
            if (loan == 0) {
                return 0;
            }
            try {
                return core.giveBack(loan);
            } catch (RuntimeException e) {
                unreadable.addSuppressed(e);
                addUnread(loan);
                returnLater();
                return -1;
            }
        }

        /**
         * Gives the loans in {@link #unread} back from a thread of its own, unless a receive of this copy
         * carries them first: a receive whose caller had given up (its deadline passed, the link broke)
         * may have lent a batch that nobody here takes. It waits {@link #RETURN_DELAY_NANOS} first, so that
         * a receive that follows at once carries them, and gives back only while no receive is under way,
         * so that a later receive of this copy cannot take items sent after them first. It tries for half
         * of {@link ChanCore#LOAN_MILLIS}; what it could not give back a later receive still carries.
         * Under {@link #receiveLock}.
         */
        private void returnLater() {
            if (returner == null) {
                returner = Thread.ofVirtual().name("chan-give-back").start(this::returnLoop);
            }
        }

        private void returnLoop() {
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(ChanCore.LOAN_MILLIS / 2);
            while (true) {
                LockSupport.parkNanos(RETURN_DELAY_NANOS);
                boolean last = System.nanoTime() - until >= 0;
                if (last) {
                    receiveLock.lock();
                } else if (!receiveLock.tryLock()) {
                    continue; // a receive is under way: it carries them
                }
                try {
                    long[] ids = takeUnread();
                    for (int i = 0; ids != null && i < ids.length; i++) {
                        try {
                            long id = ids[i];
                            // within a short deadline of its own: receives of this copy wait for it
                            Deadline.within(RETURN_CALL_TIMEOUT, () -> core.giveBack(id));
                        } catch (RuntimeException ownerUnreachable) {
                            restoreUnread(java.util.Arrays.copyOfRange(ids, i, ids.length));
                            break;
                        }
                    }
                    if (unread.isEmpty() || last) {
                        returner = null;
                        return;
                    }
                } finally {
                    receiveLock.unlock();
                }
            }
        }

        /**
         * After a receive failed with {@code e}: the loans it carried may not have reached the owner, and its
         * own loan may have been lent to a call nobody here waits for now (its deadline passed, its link broke,
         * its thread was interrupted): all go back later, unless {@code e} says the call was not sent. Giving
         * back a loan that was never lent only marks it at the owner. Under {@link #receiveLock}.
         */
        private void giveBackAfter(RuntimeException e, long loan, long[] carried) {
            restoreUnread(carried);
            boolean notSent = e instanceof DeadlineExceededException d ? !d.outcomeUnknown()
                : e instanceof WorkerDiedException w && !w.outcomeUnknown();
            if (loan != 0 && !notSent) {
                addUnread(loan);
            }
            if (!unread.isEmpty()) {
                returnLater();
            }
        }

        /** The next item, waiting up to {@code waitMillis}; null at the end (or, for 0, when none is there). */
        Object take(long waitMillis) {
            if (waitMillis == 0) {
                if (!receiveLock.tryLock()) {
                    return null; // a poll never waits: another thread's receive, or the give-back thread, is under way
                }
            } else {
                lockWithinDeadline(receiveLock, "this channel copy's receive by another thread, or its give-back of a"
                    + " late batch; nothing was taken");
            }
            try {
                long deadline = waitMillis == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + waitMillis * 1_000_000L;
                long marginNanos = ChanCore.marginNanos(); // for every call of this receive
                int max = receiveBatch; // fewer after a batch that could not be read here
                while (in.isEmpty() && !drained) {
                    long left = deadline == Long.MAX_VALUE ? WAIT_SLICE_MILLIS
                        : Math.min(WAIT_SLICE_MILLIS, Math.max(0, (deadline - System.nanoTime()) / 1_000_000L));
                    List<?> got;
                    long loan = 0;
                    long[] carried = null;
                    try {
                        long ownerWait = ownerWaitMillis(left, marginNanos);
                        if (ownerLendsNot) {
                            got = core.receiveBatch(max, ownerWait);
                        } else {
                            loan = newLoan();
                            long settled = readLoan;
                            readLoan = 0; // the owner lets it go now, or in time
                            carried = takeUnread(); // given back before anything is lent
                            got = core.receiveLent(max, ownerWait, loan, settled, carried);
                        }
                    } catch (FrameTooLargeException tooLarge) {
                        // the owner ran the call (it gave back what was carried) and kept the batch
                        if (receiveBatch == 1) {
                            throw tooLarge; // one item larger than a frame: it stays in the channel
                        }
                        receiveBatch = Math.max(1, receiveBatch / 2); // ask for fewer
                        max = Math.min(max, receiveBatch);
                        continue;
                    } catch (UnreadableValueException unreadable) {
                        // the answer came, so the owner ran the call; only its batch cannot be read here
                        int back = giveBackUnreadable(loan, unreadable);
                        if (back <= 1) {
                            throw new UnreadableValueException(unreadable.getMessage() + (back == 1
                                ? "; it stays first in the channel, for a receiver that can read it"
                                : back < 0 ? "; its batch goes back to the channel as soon as the owner can be asked"
                                : loan == 0 ? "; the items of that batch are lost (the owner's build cannot take them back)"
                                : "; the items of that batch are lost (the owner had let the loan go)"), unreadable);
                        }
                        max = Math.max(1, Math.min(max, back) / 2); // the items before it can come here
                        continue;
                    } catch (CircuitException e) {
                        if (loan != 0 && e.getMessage() != null && e.getMessage().contains("has no method receiveLent(")) {
                            ownerLendsNot = true; // an owner of an earlier build: receive as it knows how
                            continue;
                        }
                        giveBackAfter(e, loan, carried);
                        throw e;
                    } catch (RuntimeException e) {
                        giveBackAfter(e, loan, carried);
                        throw e;
                    }
                    if (loan != 0 && got != null && !got.isEmpty()) {
                        readLoan = loan;
                    }
                    if (got == null) {
                        drained = true;
                    } else {
                        in.addAll(got);
                    }
                    if (left == 0 || (deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0)) {
                        break;
                    }
                }
                return in.pollFirst();
            } finally {
                receiveLock.unlock();
            }
        }
    }
}
