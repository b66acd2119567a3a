package io.jcircuit.runtime;

import io.jcircuit.ChanClosedException;
import io.jcircuit.ChanCore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The owner's buffer of a channel: at most {@code capacity} items, with blocking in slices. Items a
 * receive took but could not deliver (too large for one frame together, or the receiver's session
 * ended meanwhile) come back to the front, in order, and stay in the channel; so do the items of a
 * loan ({@link #receiveLent}) that its receiver could not read and gave back.
 */
final class LocalChan implements ChanCore, Dispatcher.TakesBackUndelivered {

    private final int capacity;
    private final ArrayDeque<Object> items;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    private boolean closed;
    /** The owner's runtime closed: calls stop waiting here (see {@link #ownerClosed}). */
    private boolean ownerGone;
    /** Batches handed out and not yet settled, oldest first; under {@link #lock}. */
    private final java.util.LinkedHashMap<Long, Loan> loans = new java.util.LinkedHashMap<>();

    /** One receive's batch, handed out at {@code at} ({@link System#nanoTime()}). */
    private record Loan(List<Object> items, long at) {
    }

    /** How long a loan neither settled nor given back is kept ({@link ChanCore#LOAN_MILLIS}). */
    private final long loanNanos;

    LocalChan(int capacity) {
        this(capacity, LOAN_MILLIS);
    }

    LocalChan(int capacity, long loanMillis) {
        this.loanNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(loanMillis);
        if (capacity < 1) {
            throw new IllegalArgumentException("a channel holds at least 1 item, not " + capacity);
        }
        this.capacity = capacity;
        this.items = new ArrayDeque<>(Math.min(capacity, 4096));
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
            while (sent < batch.size()) {
                if (ownerGone) {
                    break; // the call fails as its runtime's calls do when it closes; see ownerClosed
                }
                if (closed) {
                    throw new ChanClosedException("send on a closed channel");
                }
                int room = capacity - items.size();
                if (room == 0) {
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
            Thread.currentThread().interrupt();
            return sent;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<?> receiveBatch(int max, long waitMillis) {
        return receive(max, waitMillis, 0, 0);
    }

    @Override
    public List<?> receiveLent(int max, long waitMillis, long loan, long settled) {
        if (loan == 0) {
            throw new IllegalArgumentException("a loan is numbered by its receiver, and not 0");
        }
        return receive(max, waitMillis, loan, settled);
    }

    /** A receive; what it hands out is kept as loan {@code loan} unless that is 0. */
    private List<?> receive(int max, long waitMillis, long loan, long settled) {
        long nanos = ChanCore.waitNanos(waitMillis); // within the caller's deadline
        lock.lock();
        try {
            if (settled != 0 || !loans.isEmpty()) {
                settle(settled);
            }
            if (nanos < 0) {
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
            }
            int n = Math.min(Math.max(1, max), items.size());
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(items.pollFirst());
            }
            notFull.signalAll();
            if (loan != 0) {
                loans.put(loan, new Loan(out, System.nanoTime()));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } finally {
            lock.unlock();
        }
    }

    /** Lets loan {@code settled} go (0: none), and every loan older than {@link #LOAN_MILLIS}; under {@link #lock}. */
    private void settle(long settled) {
        if (settled != 0) {
            loans.remove(settled);
        }
        long now = System.nanoTime();
        for (var it = loans.values().iterator(); it.hasNext(); ) {
            if (now - it.next().at() < loanNanos) {
                break; // the rest are younger
            }
            it.remove();
        }
    }

    /** How many loans are held now. */
    int loansHeld() {
        lock.lock();
        try {
            return loans.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int giveBack(long loan) {
        lock.lock();
        try {
            Loan lent = loans.remove(loan);
            if (lent == null) {
                return 0;
            }
            putBackInFront(lent.items());
            return lent.items().size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void takeBack(Object result) {
        if (!(result instanceof List<?> batch) || batch.isEmpty()) {
            return; // not a receive's batch
        }
        lock.lock();
        try {
            loans.values().removeIf(l -> l.items() == batch); // never delivered: nothing to give back
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
