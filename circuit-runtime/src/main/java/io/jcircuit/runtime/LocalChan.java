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
 * ended meanwhile) come back to the front, in order, and stay in the channel.
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

    LocalChan(int capacity) {
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
        long nanos = ChanCore.waitNanos(waitMillis); // within the caller's deadline
        if (nanos < 0) {
            return List.of(); // too late: a batch taken now could reach it after it gave up, and be lost
        }
        lock.lock();
        try {
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
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
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
            for (int i = batch.size() - 1; i >= 0; i--) {
                items.addFirst(batch.get(i)); // room they left: the capacity may be passed until they go again
            }
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
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
