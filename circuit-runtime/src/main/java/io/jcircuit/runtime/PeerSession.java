package io.jcircuit.runtime;

import io.jcircuit.WorkerDiedException;
import io.jcircuit.link.Link;
import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the runtime keeps per link: the requests it sent that still wait for answers, and how many
 * requests run in each direction. Both directions are bounded: past the outgoing bound callers wait
 * before they even encode their request. Past the incoming bound, requests from the peer wait here,
 * undecoded, in the order they came, and each starts when one of the peer's calls ends; the link goes
 * on reading, so the answers to this runtime's own calls on it still come (a callee that calls back
 * its caller cannot deadlock the link). The peer's outgoing bound is what normally bounds the
 * requests waiting here; past {@link #MAX_PARKED_REQUESTS} of them or {@code maxParkedBytes} (the
 * session's replay limit) the link stops reading until they drop below, which pushes back on the peer
 * through TCP. So a flood of calls to a slow callee slows its callers down instead of filling memory
 * on either side.
 */
final class PeerSession {

    /**
     * Requests that may wait for a slot at once; past it (or {@code maxParkedBytes}) the link stops
     * reading. As many as the frames a session keeps for replay: what the peer would otherwise keep.
     */
    static final int MAX_PARKED_REQUESTS = 65_536;
    /** How long after two of a peer's requests overlapped it is taken to keep several calls in flight ({@link #pipelining}). */
    static final long OVERLAP_WINDOW_NANOS = 1_000_000;

    final Link link;
    final ConcurrentHashMap<Long, Outstanding> pending = new ConcurrentHashMap<>();
    /** Requests from the peer running, waiting in {@link #parked}, or on their way into it. */
    private final AtomicInteger incoming = new AtomicInteger();
    private final int maxIncoming;
    private final long maxParkedBytes;
    private final Semaphore outgoing;
    /** Requests past the incoming bound, in the order they came; guarded by itself, as are the three below. */
    private final ArrayDeque<Parked> parked = new ArrayDeque<>();
    private long parkedBytes;
    /** Slots given back while the request that was to take them was on its way into {@link #parked}. */
    private int owed;
    private boolean pausedForParked;
    private volatile boolean down;
    /** When a request last came while another of this peer's ran or waited; written on the event loop. */
    private volatile long lastOverlapNanos = System.nanoTime() - 2 * OVERLAP_WINDOW_NANOS;

    PeerSession(Link link, int maxIncoming, int maxOutgoing, long maxParkedBytes) {
        this.link = link;
        this.maxIncoming = maxIncoming;
        this.maxParkedBytes = maxParkedBytes;
        this.outgoing = new Semaphore(maxOutgoing);
    }

    /** A request from the peer that waits for one of its incoming slots: its payload and when it came. */
    record Parked(ByteBuf payload, long arrived) {
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

    /**
     * Event loop: request {@code payload} came at {@code arrived}. Returns true when it may start now;
     * false when it waits here for a slot, which {@link #incomingEnded} hands it (it owns the payload
     * meanwhile). Under the bound this costs one atomic increment, as before there was a wait.
     */
    boolean incomingStarted(ByteBuf payload, long arrived) {
        int inFlight = incoming.incrementAndGet();
        if (inFlight <= maxIncoming) {
            if (inFlight > 1) {
                lastOverlapNanos = arrived;
            }
            return true;
        }
        synchronized (parked) {
            if (down) {
                payload.release(); // the link went down as it came: nothing will run it
                return false;
            }
            if (owed > 0) {
                owed--; // a call ended as this one came in: it takes that call's slot
                return true;
            }
            // a copy of its own: the payload is a slice of the socket read it came in, which it would keep whole
            ByteBuf own = payload.copy();
            payload.release();
            parked.add(new Parked(own, arrived));
            parkedBytes += own.readableBytes();
            if (!pausedForParked && (parked.size() >= MAX_PARKED_REQUESTS || parkedBytes >= maxParkedBytes)) {
                pausedForParked = true;
                link.pauseReading(); // the peer sends past what its own bound allows: TCP pushes back
            }
            return false;
        }
    }

    /** Incoming requests from this peer that run or wait for a slot now. */
    int incomingInFlight() {
        return incoming.get();
    }

    /**
     * Whether this peer keeps several calls in flight: several of its requests run or wait now, or one
     * came in while another did within the last {@link #OVERLAP_WINDOW_NANOS}. An answer to such a peer is
     * left to the event loop, which is awake for the requests anyway: it writes the answers of a burst
     * together, and the call thread goes on to the next call instead of making the system call (with
     * one carrier, the next call waits for it). A peer that makes one call at a time gets each answer
     * written at once by the thread that made it, one hop fewer. Counting only the calls that run at the
     * moment of the answer misses the last answer of each burst: a quarter of the answers to 8 callers.
     */
    boolean pipelining(long now) {
        return incoming.get() > 1 || now - lastOverlapNanos < OVERLAP_WINDOW_NANOS;
    }

    /**
     * An incoming request ended; any thread. Returns the request that takes its slot, which the caller
     * starts, or null. Under the bound this costs one atomic decrement.
     */
    Parked incomingEnded() {
        if (incoming.getAndDecrement() <= maxIncoming) {
            return null;
        }
        synchronized (parked) {
            Parked next = parked.poll();
            if (next == null) {
                owed++; // the request counted past the bound is on its way in: incomingStarted runs it
                return null;
            }
            parkedBytes -= next.payload().readableBytes();
            if (pausedForParked && parked.size() < MAX_PARKED_REQUESTS && parkedBytes < maxParkedBytes) {
                pausedForParked = false;
                link.resumeReading();
            }
            return next;
        }
    }

    /**
     * Takes every request waiting for a slot out, in the order they came, for the caller to answer (a
     * closing runtime refuses them as not run); they no longer count as incoming. Any thread.
     */
    java.util.List<Parked> takeParked() {
        synchronized (parked) {
            java.util.List<Parked> all = new java.util.ArrayList<>(parked);
            parked.clear();
            parkedBytes = 0;
            incoming.addAndGet(-all.size());
            if (pausedForParked) {
                pausedForParked = false;
                link.resumeReading();
            }
            return all;
        }
    }

    /** The link is gone: fail every request still waiting, naming the reason. */
    void markDown(String reason) {
        synchronized (parked) {
            down = true;
            for (Parked p; (p = parked.poll()) != null; ) {
                p.payload().release(); // never run: the peer's holds on what it carries end with the session
            }
            parkedBytes = 0;
        }
        for (Long id : pending.keySet()) {
            Outstanding p = pending.remove(id);
            if (p != null) {
                p.fail(new WorkerDiedException(link.peer(), true,
                    "link to worker " + link.peer() + " at " + link.peerAddress() + " broke before the answer came: " + reason));
            }
        }
    }
}
