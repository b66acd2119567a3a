package io.jcircuit.runtime;

import io.jcircuit.WorkerDiedException;
import io.jcircuit.link.Link;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the runtime keeps per link: the requests it sent that still wait for answers, and how many
 * incoming requests from that peer are running.
 */
final class PeerSession {

    final Link link;
    final ConcurrentHashMap<Long, PendingCall> pending = new ConcurrentHashMap<>();
    private final AtomicInteger incoming = new AtomicInteger();
    private final int maxIncoming;
    private volatile boolean down;

    PeerSession(Link link, int maxIncoming) {
        this.link = link;
        this.maxIncoming = maxIncoming;
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
            PendingCall p = pending.remove(id);
            if (p != null) {
                p.fail(new WorkerDiedException(link.peer(), true,
                    "link to worker " + link.peer() + " at " + link.peerAddress() + " broke before the answer came: " + reason));
            }
        }
    }
}
