package io.jcircuit.runtime;

import io.jcircuit.WorkerDiedException;
import io.jcircuit.link.Link;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the runtime keeps per link: the requests it sent that still wait for answers, and how many
 * requests run in each direction. Both directions are bounded: past the outgoing bound callers wait
 * before they even encode their request, and past the incoming bound the link stops reading, which
 * pushes back on the peer through TCP. So a flood of calls to a slow callee slows its callers down
 * instead of filling memory on either side.
 */
final class PeerSession {

    final Link link;
    final ConcurrentHashMap<Long, Outstanding> pending = new ConcurrentHashMap<>();
    private final AtomicInteger incoming = new AtomicInteger();
    private final int maxIncoming;
    private final Semaphore outgoing;
    private volatile boolean down;

    PeerSession(Link link, int maxIncoming, int maxOutgoing) {
        this.link = link;
        this.maxIncoming = maxIncoming;
        this.outgoing = new Semaphore(maxOutgoing);
    }

    /**
     * Takes one of the outgoing call slots, waiting until {@code deadlineNanoTime} at most; returns
     * false when the deadline passed first. Release with {@link #outgoingEnded()}.
     */
    boolean outgoingStarted(long deadlineNanoTime) throws InterruptedException {
        return outgoing.tryAcquire() || outgoing.tryAcquire(Math.max(0, deadlineNanoTime - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    void outgoingEnded() {
        outgoing.release();
    }

    boolean isDown() {
        return down;
    }

    /** An incoming request starts; past the bound the link stops reading. Event loop only. */
    void incomingStarted() {
        if (incoming.incrementAndGet() >= maxIncoming) {
            link.pauseReading();
            // A request may have ended between the increment and the pause, and its resume then
            // came too early to count: look again, or the link would never read again.
            if (incoming.get() < maxIncoming) {
                link.resumeReading();
            }
        }
    }

    /** Incoming requests from this peer that are running now. */
    int incomingInFlight() {
        return incoming.get();
    }

    /** An incoming request ended; any thread. */
    void incomingEnded() {
        if (incoming.getAndDecrement() == maxIncoming) {
            link.resumeReading();
        }
    }

    /** The link is gone: fail every request still waiting, naming the reason. */
    void markDown(String reason) {
        down = true;
        for (Long id : pending.keySet()) {
            Outstanding p = pending.remove(id);
            if (p != null) {
                p.fail(new WorkerDiedException(link.peer(), true,
                    "link to worker " + link.peer() + " at " + link.peerAddress() + " broke before the answer came: " + reason));
            }
        }
    }
}
