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
 * only this thread can complete would never end, so {@link CallFuture} refuses it with an error; a
 * wait that gets past that check (on {@code allOf} of such futures, say) would still never end, and
 * would hold up every later answer and deadline of the runtime with it. So when answers wait while
 * the drainer has finished nothing for {@link #STUCK_NANOS}, a new drainer takes over the queue; the
 * stuck one stops once its dependent returns. Only then can futures complete out of order.
 */
final class Completions {

    private static final Logger LOG = LoggerFactory.getLogger(Completions.class);
    /** How long answers may wait behind one completion before a new drainer takes them. */
    static final long STUCK_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(200);

    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final Waiters waiters;
    private final ThreadFactory completer;
    /** Runs each task of a future's {@code *Async} dependents on a new virtual thread. */
    private final Executor virtualThreads;
    /**
     * The drainer that owns the queue, null when none does. Set from null by whoever then starts that
     * thread (or by the drainer itself, taking the queue back), from a held drainer to its successor by
     * the {@link Watch}, and back to null by the owner only. A drainer polls only while it owns the queue.
     */
    private final AtomicReference<Thread> owner = new AtomicReference<>();
    private final CallDeadlines deadlines;
    private final long stuckNanos;
    /** Completions run to their end, by any drainer. */
    private final java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
    /** A takeover has been logged as a warning; later ones are logged at debug level. */
    private final AtomicBoolean warned = new AtomicBoolean();
    /** A {@link Watch} is registered with {@link #deadlines}. */
    private final AtomicBoolean watched = new AtomicBoolean();

    Completions(String owner, Waiters waiters, CallDeadlines deadlines) {
        this(owner, waiters, deadlines, STUCK_NANOS);
    }

    /** With {@code stuckNanos} instead of {@link #STUCK_NANOS}: a test's. */
    Completions(String owner, Waiters waiters, CallDeadlines deadlines, long stuckNanos) {
        this.stuckNanos = stuckNanos;
        this.waiters = waiters;
        this.deadlines = deadlines;
        this.completer = Thread.ofVirtual().name("circuit-answers-" + owner).factory();
        ThreadFactory async = Thread.ofVirtual().name("circuit-async-" + owner).factory();
        this.virtualThreads = r -> async.newThread(r).start();
    }

    /** Queues {@code completion}; any thread. */
    void submit(Runnable completion) {
        queue.offer(completion);
        if (owner.get() == null) {
            startDrainer(null);
        } else if (!watched.get() && watched.compareAndSet(false, true)) {
            // the drainer is busy: look again in a while whether it got anywhere
            deadlines.add(new Watch(done.get(), System.nanoTime() + stuckNanos));
        }
    }

    /** Starts a drainer that owns the queue in place of {@code from}, unless another change came first. */
    private boolean startDrainer(Thread from) {
        Thread t = completer.newThread(this::drain);
        if (!owner.compareAndSet(from, t)) {
            return false; // a drainer owns it already, or the held one let go
        }
        waiters.callThreadStarting(); // pollers holding a carrier step aside for it
        t.start();
        return true;
    }

    /** Looks, at its deadline, whether the drainer finished anything since it was registered. */
    private final class Watch extends CallDeadlines.Expiring {
        private final long doneThen;
        private final long deadline;

        Watch(long doneThen, long deadline) {
            this.doneThen = doneThen;
            this.deadline = deadline;
        }

        @Override
        long deadline() {
            return deadline;
        }

        @Override
        void expire() {
            watched.set(false);
            Thread held = owner.get();
            if (held != null && done.get() == doneThen && !queue.isEmpty() && startDrainer(held)) {
                (warned.compareAndSet(false, true) ? LOG.atWarn() : LOG.atDebug()).log(
                    "a dependent of an asynchronous call has held the thread that completes futures for {} ms"
                    + " (use the *Async variants for dependents that block); a new thread takes the answers that"
                    + " wait; the held thread: {}", java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(stuckNanos), held);
            }
            // Keep watching while answers wait: the new drainer may be held too, with nothing more to submit.
            if (!queue.isEmpty() && owner.get() != null && watched.compareAndSet(false, true)) {
                deadlines.add(new Watch(done.get(), System.nanoTime() + stuckNanos));
            }
        }
    }

    /** True on the thread that completes futures now. */
    boolean isCompleterThread() {
        return Thread.currentThread() == owner.get();
    }

    Executor defaultExecutor() {
        return virtualThreads;
    }

    private void drain() {
        waiters.callThreadStarted();
        Thread me = Thread.currentThread();
        while (true) {
            Runnable r;
            while (owner.get() == me && (r = queue.poll()) != null) {
                try {
                    r.run();
                } catch (RuntimeException | Error e) {
                    LOG.error("completing an asynchronous call failed", e);
                }
                done.incrementAndGet();
            }
            if (!owner.compareAndSet(me, null)) {
                return; // a new drainer took over while this one was held; the queue is its now
            }
            // An answer queued after the last poll but before the owner let go saw an owner and started
            // no drainer: take the queue back for it, unless a new drainer did.
            if (queue.isEmpty() || !owner.compareAndSet(null, me)) {
                return;
            }
        }
    }
}
