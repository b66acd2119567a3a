package io.jcircuit.runtime;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides which of one runtime's waiting callers may poll for its answer a short while before it
 * parks. Parking costs a wake-up when the answer comes, about 10 us on the VMs we measure on; polling
 * costs CPU. At most one caller polls at a time. Which one depends on the JVM's carrier threads:
 *
 * <ul>
 *   <li>with several carriers, only a caller that waits alone polls, and it stops as soon as a second
 *       one waits: the CPU is better left to the others and to the event loop;</li>
 *   <li>with one carrier (what JCircuit's own JVMs have on two CPUs, {@code io.jcircuit.host.CpuOptions}),
 *       one caller polls however many wait, and stops as soon as another caller's answer has come: that
 *       caller needs the carrier the poller holds. The carrier then never runs dry while calls are in
 *       flight, so the event loop never has to wake it. 8 callers made 158-196 k calls/s instead of
 *       75-126 k; with two carriers the same rule made no difference.</li>
 * </ul>
 *
 * <p>Also counts the runtime's call threads that have been started but do not run yet. A virtual
 * thread that polls keeps its carrier thread, so pollers (these callers, and a call thread lingering
 * for the next request) stop as soon as a call thread waits for one.
 *
 * <p>Nobody polls until the runtime is busy: {@link #POLL_AFTER} waits that could have polled park at
 * once, and then {@link io.jcircuit.link.CpuYield} is bound on a thread of its own, after which polls
 * are allowed. A worker that only starts and answers the odd call never binds it (the FFM linker costs
 * an idle worker 1.8 MB, and a cold one tens of milliseconds of its start; docs/performance.md).
 *
 * <p>Where the transport shares its event loop ({@link io.jcircuit.link.LoopShare}), a poller runs the loop
 * itself on each turn ({@link #pollTurn}) and so reads what it waits for on its own thread.
 */
final class Waiters {

    private final long spinNanos;
    private final boolean oneCarrier;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger pollers = new AtomicInteger();
    /** Waiting callers whose outcome has come from another thread and who have not taken it yet. */
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger callThreadsStarting = new AtomicInteger();
    /** Waits that could have polled still to go before polling starts; see the class comment. */
    private final AtomicInteger untilPolling = new AtomicInteger(POLL_AFTER);
    /** Set once {@link io.jcircuit.link.CpuYield} is bound (or known not to bind): polls are allowed. */
    private volatile boolean polling;
    /** The transport's event loop for pollers to run, once the transport has started. */
    private volatile io.jcircuit.link.LoopShare loop = io.jcircuit.link.LoopShare.NONE;
    private final long crowdMemoryNanos;
    /** When calls last overlapped, as a {@link System#nanoTime()}; see {@link #crowded}. */
    private volatile long crowdedAt;

    /** How many waits that could have polled park at once, in a runtime that has just started. */
    static final int POLL_AFTER = 256;
    /**
     * How long after calls last overlapped ({@link #crowded}) a poller still leaves the event loop to its own
     * thread. Under load they overlap every few microseconds, so this only needs to outlast those gaps.
     */
    static final long CROWD_MEMORY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long CROWD_GRAIN_NANOS = TimeUnit.MICROSECONDS.toNanos(1);

    /**
     * @param spinMicros the polling budget of a waiter; 0 parks at once
     * @param carriers   the carrier threads of this JVM's virtual threads ({@link #carriers()})
     */
    Waiters(int spinMicros, int carriers) {
        this(spinMicros, carriers, POLL_AFTER);
    }

    /** With {@code pollAfter} waits that park before polling starts; 0 polls from the start. */
    Waiters(int spinMicros, int carriers, int pollAfter) {
        this(spinMicros, carriers, pollAfter, CROWD_MEMORY_NANOS);
    }

    /** With {@code crowdMemoryNanos} in place of {@link #CROWD_MEMORY_NANOS}. */
    Waiters(int spinMicros, int carriers, int pollAfter, long crowdMemoryNanos) {
        this.crowdMemoryNanos = crowdMemoryNanos;
        this.crowdedAt = System.nanoTime() - crowdMemoryNanos;
        this.spinNanos = TimeUnit.MICROSECONDS.toNanos(spinMicros);
        this.oneCarrier = carriers <= 1;
        this.untilPolling.set(pollAfter);
        this.polling = pollAfter == 0;
    }

    /**
     * The carrier threads this JVM's virtual threads get: the JDK's
     * {@code jdk.virtualThreadScheduler.parallelism} when it is set to a number, else one per CPU.
     */
    static int carriers() {
        String set = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        if (set != null) {
            try {
                return Integer.parseInt(set.trim());
            } catch (NumberFormatException ignored) {
                // the JDK refuses such a value at start; fall through to its default
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Starts a wait; returns how long this caller may poll, 0 when it must park at once. A caller
     * given a budget calls {@link #endPoll} when it stops polling.
     */
    long enter() {
        int n = waiting.incrementAndGet();
        if (n > 1) {
            crowded();
        }
        if (spinNanos == 0 || callThreadsStarting.get() > 0 || !busy()) {
            return 0;
        }
        if (oneCarrier) {
            return pollers.compareAndSet(0, 1) ? spinNanos : 0;
        }
        if (n == 1) {
            pollers.incrementAndGet();
            return spinNanos;
        }
        return 0;
    }

    /**
     * Whether this runtime polls yet; counts a wait that could have polled while it does not (see the class
     * comment). A call thread asks before it lingers.
     */
    boolean busy() {
        if (polling) {
            return true;
        }
        if (untilPolling.decrementAndGet() == 0) {
            Thread.ofVirtual().name("circuit-bind-yield").start(() -> {
                io.jcircuit.link.CpuYield.available(); // binds it, if it can be
                polling = true;
            });
        }
        return false;
    }

    /** The transport has started: pollers may run its loop, if it shares it. */
    void loop(io.jcircuit.link.LoopShare share) {
        this.loop = share;
    }

    /**
     * One turn of a poller: runs the transport's event loop if the poller holds it or can take it, and yields
     * the CPU when that found nothing to do. Returns whether the poller holds the loop now; it passes that back
     * in as {@code held}, and lets go with {@link #letGo} when it stops polling, before it runs anything else.
     * A poller takes the loop only while it waits {@code alone}, and then asks the loop's own thread to let go
     * of it ({@link io.jcircuit.link.LoopShare#tryHold}); where several wait, or calls {@linkplain #crowded
     * overlapped} within {@link #CROWD_MEMORY_NANOS}, the loop's own thread reads for them all, as it would
     * without sharing (taking the loop by turns cost 8 callers calls, and so did taking it whenever one waited
     * for a moment alone while the peer did the same: docs/performance.md).
     */
    boolean pollTurn(boolean held, boolean alone) {
        io.jcircuit.link.LoopShare share = loop;
        boolean took = false;
        try {
            if ((held || (alone && !crowdedLately() && (took = held = share.tryHold(true)))) && share.runNow() > 0) {
                return true;
            }
        } catch (RuntimeException | Error e) {
            if (took) {
                share.release(); // the caller does not know it holds the loop: left held, the link would stop
            }
            throw e;
        }
        io.jcircuit.link.CpuYield.yieldCpu();
        return held;
    }

    /** A poller that {@link #pollTurn} left holding the loop lets go of it. */
    void letGo(boolean held) {
        if (held) {
            loop.release();
        }
    }

    /**
     * Calls overlap: a caller starts to wait while another does, or a request finds no call thread lingering
     * for it. For {@link #CROWD_MEMORY_NANOS} after, pollers leave the event loop to its own thread
     * ({@link #pollTurn}). Written at most once a microsecond, so that callers under load do not all write
     * one field.
     */
    void crowded() {
        long now = System.nanoTime();
        if (now - crowdedAt > CROWD_GRAIN_NANOS) {
            crowdedAt = now;
        }
    }

    /** Whether calls overlapped within {@link #CROWD_MEMORY_NANOS}. */
    boolean crowdedLately() {
        return System.nanoTime() - crowdedAt < crowdMemoryNanos;
    }

    /** The poll that {@link #enter} allowed has ended. */
    void endPoll() {
        pollers.decrementAndGet();
    }

    /** Whether one caller waits, and no call thread is about to start. */
    boolean waitsAlone() {
        return waiting.get() == 1 && callThreadsStarting.get() == 0;
    }

    /** Whether a polling caller may go on polling. */
    boolean mayKeepPolling() {
        if (callThreadsStarting.get() > 0) {
            return false;
        }
        return oneCarrier ? answered.get() == 0 : waiting.get() == 1;
    }

    /** A waiting caller's outcome was set by another thread (answer, failure or deadline). */
    void answered() {
        answered.incrementAndGet();
    }

    /** A caller counted by {@link #answered} is done with its call ({@code PendingCall.settle}). */
    void answerTaken() {
        answered.decrementAndGet();
    }

    /** A wait started by {@link #enter} has ended. */
    void leave() {
        waiting.decrementAndGet();
    }

    /** A call thread was handed to the scheduler. */
    void callThreadStarting() {
        callThreadsStarting.incrementAndGet();
    }

    /** A call thread counted by {@link #callThreadStarting} runs (or was refused). */
    void callThreadStarted() {
        callThreadsStarting.decrementAndGet();
    }

    /** True when a call thread has been started and does not run yet. */
    boolean callThreadWaits() {
        return callThreadsStarting.get() > 0;
    }
}
