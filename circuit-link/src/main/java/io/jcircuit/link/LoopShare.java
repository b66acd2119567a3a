package io.jcircuit.link;

/**
 * A transport's event loop, for a thread that polls for a message it expects soon (a caller for its answer, a
 * call thread for the next request) to run itself while it polls: whatever it reads, it reads on its own
 * thread, with no hand-over from the loop's. Only when the transport runs one {@linkplain LinkConfig#sharedLoop
 * shared loop}; otherwise {@link #tryHold} always says no.
 *
 * <pre>{@code
 * boolean held = false;
 * try {
 *     while (nothing yet && budget left) {
 *         if ((held || (held = share.tryHold(alone))) && share.runNow() > 0) continue;
 *         CpuYield.yieldCpu();
 *     }
 * } finally {
 *     if (held) share.release();
 * }
 * }</pre>
 *
 * <p>A thread that holds the loop runs the link's handlers, and the layer above's, as the loop's thread would:
 * it must let go before it runs anything that may block or take long.
 */
public final class LoopShare {

    /** The share of a transport whose loop cannot be shared. */
    public static final LoopShare NONE = new LoopShare(null);

    private final SharedIoEventLoop loop;

    LoopShare(SharedIoEventLoop loop) {
        this.loop = loop;
    }

    /** Whether threads may hold this loop at all. */
    public boolean shared() {
        return loop != null;
    }

    /**
     * Takes the loop for the calling thread if nobody holds it; returns whether it did. With {@code ask}, the
     * loop's own thread, if it holds the loop (it polls for a while after work), is asked to let go, and a
     * later call may succeed. Ask only when the loop's thread has nothing better to do: a thread that waits
     * alone. Where many wait, taking the loop from its thread by turns puts that thread to sleep between the
     * turns, and its wake-ups cost more than the hand-overs saved.
     */
    public boolean tryHold(boolean ask) {
        return loop != null && loop.tryHold(ask);
    }

    /** The holder runs what is ready (I/O, due timers, queued tasks) once, without blocking; returns how much. */
    public int runNow() {
        return loop.runNow();
    }

    /** The holder lets go of the loop. */
    public void release() {
        loop.release();
    }

    /** The loop itself, or null. */
    SharedIoEventLoop loop() {
        return loop;
    }
}
