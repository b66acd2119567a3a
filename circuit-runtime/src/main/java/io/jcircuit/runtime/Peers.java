package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.DeadlineExceededException;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.link.Link;
import io.jcircuit.link.LinkRejectedException;
import io.jcircuit.link.LinkTransport;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The sessions of one runtime, one per peer, and the dials in progress. Concurrent dials to the same
 * peer share one connection attempt. No lock is held across network I/O.
 *
 * <p>When two runtimes dial each other at the same moment, both connections carry calls correctly
 * (an answer always returns on the connection its request came in on); the later one simply serves
 * as a second path until either closes.
 */
final class Peers {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Peers.class);

    private final int maxIncomingPerLink;
    private final int maxOutgoingPerLink;
    private volatile LinkTransport transport;
    private final ConcurrentHashMap<WorkerId, PeerSession> sessions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Object, CompletableFuture<Link>> dialing = new ConcurrentHashMap<>();

    Peers(int maxIncomingPerLink, int maxOutgoingPerLink) {
        this.maxIncomingPerLink = maxIncomingPerLink;
        this.maxOutgoingPerLink = maxOutgoingPerLink;
    }

    /** Set once, right after the transport binds (links may come up before this returns). */
    void transport(LinkTransport t) {
        this.transport = t;
    }

    /** Event loop: a link finished its handshake. */
    PeerSession linkUp(Link link) {
        PeerSession s = new PeerSession(link, maxIncomingPerLink, maxOutgoingPerLink);
        link.attach(s);
        sessions.compute(link.peer(), (id, old) -> old == null || old.isDown() ? s : old);
        return s;
    }

    /**
     * Event loop, before {@link #linkUp}: the peer of a new link has ended the session this runtime still
     * rides an outage out with (a runtime opens a second session only when it has none: its outage limit
     * passed first, or its dial gave up while the other side took the handshake). That session leaves
     * now, marked down, so that the new one carries the calls; returns it, or null when there is none.
     * A session whose link is connected stays: two runtimes that dial each other at once keep both.
     */
    PeerSession retireOutaged(WorkerId peer, String reason) {
        PeerSession old = sessions.get(peer);
        if (old == null || old.isDown() || old.link.isConnected() || !sessions.remove(peer, old)) {
            return null;
        }
        old.markDown(reason);
        return old;
    }

    /** True when a session with {@code peer} is up. */
    boolean hasLiveSession(WorkerId peer) {
        PeerSession s = sessions.get(peer);
        return s != null && !s.isDown();
    }

    /** True when a session with {@code peer} is up and its link connected now (not in an outage). */
    boolean isConnected(WorkerId peer) {
        PeerSession s = sessions.get(peer);
        return s != null && !s.isDown() && s.link.isConnected();
    }

    /** Event loop: a link closed. */
    void linkDown(Link link, String reason) {
        PeerSession s = (PeerSession) link.attachment();
        if (s != null) {
            sessions.remove(link.peer(), s);
            s.markDown(reason);
        }
    }

    /**
     * The session with worker {@code peer}, dialing {@code address} if there is none.
     *
     * @throws WorkerDiedException       when the worker cannot be reached or another answers there
     * @throws DeadlineExceededException when the deadline passes while dialing
     */
    PeerSession session(WorkerId peer, Address address, long deadlineNanoTime) {
        PeerSession s = sessions.get(peer);
        if (s != null && !s.isDown()) {
            return s;
        }
        return await(dial(peer, address, peer), peer, address, deadlineNanoTime);
    }

    /** Dials {@code peer} unless a session or a dial exists; does not wait. */
    void connectAhead(WorkerId peer, Address address) {
        if (hasLiveSession(peer)) {
            return;
        }
        dial(peer, address, peer).whenComplete((link, err) -> {
            if (err != null) {
                LOG.debug("could not link to worker {} at {} ahead of its first call: {}", peer, address, err.toString());
            }
        });
    }

    /** The session with whatever worker listens at {@code address}. */
    PeerSession sessionAt(Address address, long deadlineNanoTime) {
        for (PeerSession s : sessions.values()) {
            if (!s.isDown() && s.link.peerAddress().equals(address)) {
                return s;
            }
        }
        return await(dial(address, address, null), null, address, deadlineNanoTime);
    }

    private CompletableFuture<Link> dial(Object key, Address address, WorkerId expected) {
        CompletableFuture<Link> f = dialing.computeIfAbsent(key, k -> transport.dial(address, expected));
        f.whenComplete((link, err) -> dialing.remove(key, f));
        return f;
    }

    private PeerSession await(CompletableFuture<Link> f, WorkerId peer, Address address, long deadlineNanoTime) {
        try {
            long left = Math.max(0, deadlineNanoTime - System.nanoTime());
            Link link = f.get(left, TimeUnit.NANOSECONDS);
            PeerSession s = (PeerSession) link.attachment();
            if (s.isDown()) {
                throw new WorkerDiedException(link.peer(), false,
                    "link to worker " + link.peer() + " at " + address + " closed right after it opened: " + link.closeReason());
            }
            return s;
        } catch (TimeoutException e) {
            throw new DeadlineExceededException(peer, "deadline passed while dialing " + who(peer, address), true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WorkerDiedException(peer, false, "interrupted while dialing " + who(peer, address), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof LinkRejectedException) {
                throw new WorkerDiedException(peer, false, who(peer, address) + " is gone: " + cause.getMessage(), cause);
            }
            throw new WorkerDiedException(peer, false, "cannot reach " + who(peer, address) + ": " + cause.getMessage(), cause);
        }
    }

    private static String who(WorkerId peer, Address address) {
        return peer == null ? "the worker at " + address : "worker " + peer + " at " + address;
    }
}
