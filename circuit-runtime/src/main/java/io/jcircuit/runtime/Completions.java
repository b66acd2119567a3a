package io.jcircuit.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where one runtime completes the futures of its asynchronous calls: one virtual thread at a time
 * takes the answers in the order they came, decodes each and completes its future, which runs the
 * dependents added without an executor ({@code thenApply}, {@code whenComplete}, ...). It starts when
 * the first answer is queued and ends when the queue is empty, so a pipelined link wakes it once per
 * batch of answers, not once per answer. The event loop only queues; it never decodes or runs an
 * application's code.
 *
 * <p>A dependent that blocks holds up every answer queued behind it. Waiting there for a future that
 * only this thread can complete would never end, so {@link CallFuture} refuses it with an error.
 */
final class Completions {

    private static final Logger LOG = LoggerFactory.getLogger(Completions.class);

    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final Waiters waiters;
    private final ThreadFactory completer;
    /** Runs each task of a future's {@code *Async} dependents on a new virtual thread. */
    private final Executor virtualThreads;
    /** The thread draining now; a new drainer may start while the last one is still ending. */
    private final AtomicReference<Thread> current = new AtomicReference<>();

    Completions(String owner, Waiters waiters) {
        this.waiters = waiters;
        this.completer = Thread.ofVirtual().name("circuit-answers-" + owner).factory();
        ThreadFactory async = Thread.ofVirtual().name("circuit-async-" + owner).factory();
        this.virtualThreads = r -> async.newThread(r).start();
    }

    /** Queues {@code completion}; any thread. */
    void submit(Runnable completion) {
        queue.offer(completion);
        if (!draining.get() && draining.compareAndSet(false, true)) {
            waiters.callThreadStarting(); // pollers holding a carrier step aside for it
            completer.newThread(this::drain).start();
        }
    }

    /** True on the thread that completes futures now. */
    boolean isCompleterThread() {
        return Thread.currentThread() == current.get();
    }

    Executor defaultExecutor() {
        return virtualThreads;
    }

    private void drain() {
        waiters.callThreadStarted();
        Thread me = Thread.currentThread();
        current.set(me);
        try {
            do {
                Runnable r;
                while ((r = queue.poll()) != null) {
                    try {
                        r.run();
                    } catch (RuntimeException | Error e) {
                        LOG.error("completing an asynchronous call failed", e);
                    }
                }
                draining.set(false);
                // An answer queued after the last poll but before the flag dropped found it still set.
            } while (!queue.isEmpty() && draining.compareAndSet(false, true));
        } finally {
            current.compareAndSet(me, null); // not the next drainer's, if it started meanwhile
        }
    }
}
