package io.jcircuit.runtime;

import io.jcircuit.ChanClosedException;
import io.jcircuit.ChanCore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The owner's buffer of a channel: at most {@code capacity} items, with blocking in slices. Items a
 * receive took but could not deliver (too large for one frame together, or the receiver's session
 * ended meanwhile) come back to the front, in order, and stay in the channel; so do the items of a
 * loan ({@link #receiveLent}) that its receiver could not read, or had given up on, and gave back.
 *
 * <p>A loan is lent; then settled (its receiver read it: forgotten), given back (its items are in
 * front again, once), or let go (its time is up, or too many items are lent). A loan given back while
 * its answer is still to go is kept, without its items, until the answer went or was taken back, so
 * that it cannot come back twice (at most 60 s, and at most as many as marks: a loan whose answer does
 * not go by the dispatcher's send, a self-call's or one an interceptor failed, is never told either).
 * A give-back of a loan not held (its receive is still on its way, or lent nothing, or was let go)
 * leaves a mark: a receive still to come with that number lends nothing, and a batch taken back under
 * it goes back in.
 */
final class LocalChan implements ChanCore, Dispatcher.TakesBackUndelivered {

    /** Most items lent at once, at the least: a small channel's consumers each hold a loan until they receive again. */
    static final int MIN_LENT_ITEMS = 64;
    /** Most marks kept, at the least. */
    static final int MIN_MARKS = 1024;

    private final int capacity;
    private final ArrayDeque<Object> items;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    private boolean closed;
    /** The owner's runtime closed: calls stop waiting here (see {@link #ownerClosed}). */
    private boolean ownerGone;
    /** Loans by number, oldest first; under {@link #lock}. */
    private final LinkedHashMap<Long, Loan> loans = new LinkedHashMap<>();
    /** Items in loans that are lent now; under {@link #lock}. */
    private int lentItems;
    /** Marks in {@link #loans}; under {@link #lock}. */
    private int marks;
    /** Loans given back while their answers were still to go, in {@link #loans}; under {@link #lock}. */
    private int backs;
    /** How long a loan is kept ({@link ChanCore#LOAN_MILLIS}). */
    private final long loanNanos;

    private enum State {
        /** Its batch is out; {@link Loan#answered} says whether its answer went. */
        LENT,
        /** Given back while its answer was still to go: kept, without items, until the answer went or came back. */
        BACK,
        /** Given back, but not held here when that came: see the class comment. */
        MARK
    }

    /** A loan: its batch while it is lent, when it began, and where it is. */
    private static final class Loan {
        List<?> batch;
        final long at;
        State state;
        boolean answered;

        Loan(List<?> batch, long at, State state) {
            this.batch = batch;
            this.at = at;
            this.state = state;
        }
    }

    LocalChan(int capacity) {
        this(capacity, LOAN_MILLIS);
    }

    LocalChan(int capacity, long loanMillis) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a channel holds at least 1 item, not " + capacity);
        }
        this.capacity = capacity;
        this.items = new ArrayDeque<>(Math.min(capacity, 4096));
        this.loanNanos = TimeUnit.MILLISECONDS.toNanos(loanMillis);
    }

    @Override
    public int sendBatch(List<?> batch, long waitMillis) {
        long nanos = ChanCore.waitNanos(waitMillis); // within the caller's deadline
        if (nanos < 0) {
            return 0; // too late: it would learn of the send after it gave up on it
        }
        int sent = 0;
        lock.lock();
        try {
            letOldLoansGo();
            if (batch.isEmpty() && closed && !ownerGone) {
                throw new ChanClosedException("the channel is closed"); // an empty batch asks just that
            }
            while (sent < batch.size()) {
                if (ownerGone) {
                    break; // the call fails as its runtime's calls do when it closes; see ownerClosed
                }
                if (closed) {
                    throw new ChanClosedException("send on a closed channel");
                }
                int room = capacity - items.size();
                if (room <= 0) { // below 0 after items came back in front
                    if (sent > 0 || nanos <= 0) {
                        break; // what fit is in; the caller comes back with the rest
                    }
                    nanos = notFull.awaitNanos(nanos);
                    continue;
                }
                int n = Math.min(room, batch.size() - sent);
                for (int i = 0; i < n; i++) {
                    Object item = batch.get(sent + i);
                    if (item == null) {
                        throw new IllegalArgumentException("a channel carries no null");
                    }
                    items.addLast(item);
                }
                sent += n;
                notEmpty.signalAll();
            }
            return sent;
        } catch (InterruptedException e) {
            // only the owner's own copy's call runs on a thread that can be interrupted (its caller's): an
            // answer of 0 would send it back here at once, where the wait throws again, until its deadline
            Thread.currentThread().interrupt();
            if (sent > 0) {
                return sent; // those are in; its next call fails if it must wait
            }
            throw new io.jcircuit.CircuitException("interrupted while waiting for room in the channel; nothing was put in");
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<?> receiveBatch(int max, long waitMillis) {
        return receive(max, waitMillis, 0, 0, null);
    }

    @Override
    public List<?> receiveLent(int max, long waitMillis, long loan, long settled, long[] unread) {
        if (loan == 0) {
            throw new IllegalArgumentException("a loan is numbered by its receiver, and not 0");
        }
        return receive(max, waitMillis, loan, settled, unread);
    }

    /** A receive; what it hands out is kept as loan {@code loan} unless that is 0. */
    private List<?> receive(int max, long waitMillis, long loan, long settled, long[] unread) {
        long nanos = ChanCore.waitNanos(waitMillis); // within the caller's deadline
        lock.lock();
        try {
            if (settled != 0) {
                forget(settled);
            }
            if (unread != null) {
                for (long back : unread) {
                    giveBackLocked(back);
                }
            }
            letOldLoansGo();
            if (nanos < 0 || givenBackBeforeLent(loan)) {
                return List.of(); // too late: a batch taken now could reach it after it gave up, and be lost
            }
            while (items.isEmpty()) {
                if (ownerGone) {
                    return List.of();
                }
                if (closed) {
                    return null;
                }
                if (nanos <= 0) {
                    return List.of();
                }
                nanos = notEmpty.awaitNanos(nanos);
                if (givenBackBeforeLent(loan)) {
                    return List.of(); // its receiver gave up while it waited here
                }
            }
            int n = Math.min(Math.max(1, max), items.size());
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(items.pollFirst());
            }
            notFull.signalAll();
            if (loan != 0) {
                lend(loan, out);
            }
            return out;
        } catch (InterruptedException e) {
            // only the owner's own copy's call runs on a thread that can be interrupted (its caller's): an
            // empty answer would send it back here at once, until its deadline
            Thread.currentThread().interrupt();
            throw new io.jcircuit.CircuitException("interrupted while waiting for the channel's items; nothing was taken");
        } finally {
            lock.unlock();
        }
    }

    /** Whether loan {@code loan} was given back before it was lent (and forgets the mark); under {@link #lock}. */
    private boolean givenBackBeforeLent(long loan) {
        if (loan == 0) {
            return false;
        }
        Loan l = loans.get(loan);
        if (l == null || l.state != State.MARK) {
            return false;
        }
        forget(loan);
        return true;
    }

    /** Keeps {@code batch} as loan {@code loan}; under {@link #lock}. */
    private void lend(long loan, List<Object> batch) {
        forget(loan); // a receiver that used a number twice: the newer loan wins
        Loan lent = new Loan(batch, System.nanoTime(), State.LENT);
        loans.put(loan, lent);
        lentItems += batch.size();
        long most = Math.max((long) LOANS_PER_CAPACITY * capacity, MIN_LENT_ITEMS);
        for (Iterator<Loan> it = loans.values().iterator(); lentItems > most && it.hasNext(); ) {
            Loan l = it.next();
            if (l.state == State.LENT && l != lent) { // the oldest lent ones go; the others hold no items
                lentItems -= l.batch.size();
                it.remove();
            }
        }
    }

    /** Leaves a mark for loan {@code loan}, which is not held; under {@link #lock}. */
    private void mark(long loan) {
        loans.put(loan, new Loan(null, System.nanoTime(), State.MARK));
        marks++;
        if (marks > mostMarks()) {
            dropOldest(State.MARK);
        }
    }

    /** Most marks kept, and most loans kept given back while their answers were still to go. */
    private long mostMarks() {
        return Math.max((long) LOANS_PER_CAPACITY * capacity, MIN_MARKS);
    }

    /** Forgets the oldest loan in {@code state}; under {@link #lock}. */
    private void dropOldest(State state) {
        for (Iterator<Loan> it = loans.values().iterator(); it.hasNext(); ) {
            Loan l = it.next();
            if (l.state == state) {
                forgotten(l);
                it.remove();
                return;
            }
        }
    }

    /** Forgets loan {@code loan}, of any kind; under {@link #lock}. */
    private void forget(long loan) {
        Loan l = loans.remove(loan);
        if (l != null) {
            forgotten(l);
        }
    }

    /** Counts {@code l} out, removed from {@link #loans}; under {@link #lock}. */
    private void forgotten(Loan l) {
        switch (l.state) {
            case LENT -> lentItems -= l.batch.size();
            case MARK -> marks--;
            case BACK -> backs--;
        }
    }

    /** Lets every loan older than the loan time go; under {@link #lock}. */
    private void letOldLoansGo() {
        if (loans.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        for (Iterator<Loan> it = loans.values().iterator(); it.hasNext(); ) {
            Loan l = it.next();
            if (now - l.at < loanNanos) {
                break; // the rest are younger
            }
            forgotten(l);
            it.remove();
        }
    }

    /** Whether a receive waits here for items now. */
    boolean waiting() {
        lock.lock();
        try {
            return lock.hasWaiters(notEmpty);
        } finally {
            lock.unlock();
        }
    }

    /** How many loans are held now, of any kind. */
    int loansHeld() {
        lock.lock();
        try {
            return loans.size();
        } finally {
            lock.unlock();
        }
    }

    /** How many items the loans held now keep from being collected. */
    int itemsLent() {
        lock.lock();
        try {
            return loans.values().stream().mapToInt(l -> l.batch != null ? l.batch.size() : 0).sum();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int giveBack(long loan) {
        lock.lock();
        try {
            letOldLoansGo();
            return giveBackLocked(loan);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #giveBack}; under {@link #lock}. */
    private int giveBackLocked(long loan) {
        if (loan == 0) {
            return 0;
        }
        Loan l = loans.get(loan);
        if (l == null) {
            mark(loan); // a receive still to come lends nothing; one waiting here stops
            notEmpty.signalAll();
            return 0;
        }
        if (l.state != State.LENT) {
            return 0; // given back already
        }
        List<?> batch = l.batch;
        if (l.answered) {
            forget(loan); // nothing can bring it back again
        } else {
            lentItems -= batch.size();
            l.batch = null;
            l.state = State.BACK; // its answer, still to go, may yet be taken back
            if (++backs > mostMarks()) {
                dropOldest(State.BACK);
            }
        }
        putBackInFront(batch);
        return batch.size();
    }

    /** The loan that a call with arguments {@code args} lent, if it was a {@code receiveLent}: its number, else 0. */
    private static long loanOf(Object[] args) {
        // receiveLent(max, waitMillis, loan, settled, unread)
        return args != null && args.length == 5 && args[2] instanceof Long n ? n : 0;
    }

    @Override
    public void answered(Object result, Object[] args) {
        long loan = loanOf(args);
        if (loan == 0 || !(result instanceof List<?> batch) || batch.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            Loan l = loans.get(loan);
            if (l == null) {
                return;
            }
            if (l.state == State.BACK) {
                forget(loan); // given back, and its answer went: nothing can bring it back again
            } else if (l.state == State.LENT) {
                l.answered = true;
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void takeBack(Object result, Object[] args) {
        if (!(result instanceof List<?> batch) || batch.isEmpty()) {
            return; // not a receive's batch
        }
        long loan = loanOf(args);
        lock.lock();
        try {
            Loan l = loan == 0 ? null : loans.get(loan);
            if (l != null) {
                forget(loan);
                if (l.state == State.BACK) {
                    return; // its receiver gave it back already
                }
            }
            // lent and never delivered; let go before its answer went (a mark: given back then, with nothing); or not lent
            putBackInFront(batch);
        } finally {
            lock.unlock();
        }
    }

    /** Puts {@code batch} back in front, in order; under {@link #lock}. */
    private void putBackInFront(List<?> batch) {
        for (int i = batch.size() - 1; i >= 0; i--) {
            items.addFirst(batch.get(i)); // room they left: the capacity may be passed until they go again
        }
        notEmpty.signalAll();
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The owner's runtime is closing: a send or receive waiting here returns at once, having taken or
     * put in nothing more, instead of at the end of its wait. Its caller learns of the close as any
     * call does: the owner's own copy with {@link io.jcircuit.WorkerDiedException} (its call was under
     * way, {@code Invoker}), a remote copy as its link breaks.
     */
    void ownerClosed() {
        lock.lock();
        try {
            ownerGone = true;
            notEmpty.signalAll();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }
}
