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
 * <p>A caller that joined a dial already under way, and saw it fail, dials once more on its own while
 * its deadline lasts: the dial it joined may have begun long before, during an outage that has since
 * healed (its handshake lost with the network), and a call made on a sound network should not fail
 * for it. A peer that refused the link ({@link LinkRejectedException}) is not dialed again.
 *
 * <p>When two runtimes dial each other at the same moment, both connections carry calls correctly
 * (an answer always returns on the connection its request came in on); the later one simply serves
 * as a second path until either closes.
 */
final class Peers {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Peers.class);

    private final int maxIncomingPerLink;
    private final int maxOutgoingPerLink;
    private final long maxParkedBytesPerLink;
    private volatile LinkTransport transport;
    /** The session that carries this runtime's calls to each peer. */
    private final ConcurrentHashMap<WorkerId, PeerSession> sessions = new ConcurrentHashMap<>();
    /** Every session up, also a second one with a peer ({@link #linkUp}). */
    private final java.util.Set<PeerSession> open = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<Object, CompletableFuture<Link>> dialing = new ConcurrentHashMap<>();

    Peers(int maxIncomingPerLink, int maxOutgoingPerLink, long maxParkedBytesPerLink) {
        this.maxIncomingPerLink = maxIncomingPerLink;
        this.maxOutgoingPerLink = maxOutgoingPerLink;
        this.maxParkedBytesPerLink = maxParkedBytesPerLink;
    }

    /** Set once, right after the transport binds (links may come up before this returns). */
    void transport(LinkTransport t) {
        this.transport = t;
    }

    /**
     * Event loop: a link finished its handshake. Its session carries this runtime's calls to the peer
     * unless a session with the peer is up and connected: a second session while the first rides out
     * an outage is how a peer that has already ended the first one (its outage limit was shorter, or
     * its dial gave up while this side took the handshake) comes back, and it may also be a second path
     * to the same runtime (another of its addresses). Either way the connected one carries the calls;
     * the other ends in its own time, and what the peer holds stays while any session with it is up.
     */
    PeerSession linkUp(Link link) {
        PeerSession s = new PeerSession(link, maxIncomingPerLink, maxOutgoingPerLink, maxParkedBytesPerLink);
        link.attach(s);
        open.add(s);
        sessions.compute(link.peer(), (id, old) -> old == null || old.isDown() || !old.link.isConnected() ? s : old);
        return s;
    }

    /** Every session up now. */
    java.util.List<PeerSession> openSessions() {
        return java.util.List.copyOf(open);
    }

    /** True when a session with {@code peer} is up. */
    boolean hasLiveSession(WorkerId peer) {
        return liveSession(peer) != null;
    }

    /** The session with {@code peer} that is up (perhaps riding out an outage), or null; never dials. */
    PeerSession liveSession(WorkerId peer) {
        PeerSession s = sessions.get(peer);
        return s != null && !s.isDown() ? s : null;
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
            open.remove(s);
            s.markDown(reason);
            if (sessions.remove(link.peer(), s)) {
                // another session with the peer, up, carries the calls from now on
                for (PeerSession other : open) {
                    if (other.link.peer().equals(link.peer()) && !other.isDown() && sessions.putIfAbsent(link.peer(), other) == null) {
                        break;
                    }
                }
            }
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
        return dialAndAwait(peer, address, peer, deadlineNanoTime);
    }

    /** Dials {@code peer} unless a session or a dial exists; does not wait. */
    void connectAhead(WorkerId peer, Address address) {
        if (hasLiveSession(peer)) {
            return;
        }
        dial(peer, address, peer).future().whenComplete((link, err) -> {
            if (err != null) {
                LOG.debug("could not link to worker {} at {} ahead of its first call: {}", peer, address, err.toString());
            }
        });
    }

    /** The session with whatever worker listens at {@code address}. */
    PeerSession sessionAt(Address address, long deadlineNanoTime) {
        PeerSession s = liveSessionAt(address);
        return s != null ? s : dialAndAwait(address, address, null, deadlineNanoTime);
    }

    /** The session up with whatever worker listens at {@code address}, or null; never dials. */
    private PeerSession liveSessionAt(Address address) {
        for (PeerSession s : sessions.values()) {
            if (!s.isDown() && s.link.peerAddress().equals(address)) {
                return s;
            }
        }
        return null;
    }

    /** A dial in progress, and whether the caller that asked for it joined one already under way. */
    private record Dial(CompletableFuture<Link> future, boolean joined) {
    }

    private Dial dial(Object key, Address address, WorkerId expected) {
        boolean[] began = new boolean[1];
        CompletableFuture<Link> f = dialing.computeIfAbsent(key, k -> {
            began[0] = true;
            return transport.dial(address, expected);
        });
        f.whenComplete((link, err) -> dialing.remove(key, f));
        return new Dial(f, !began[0]);
    }

    /** See the class comment: a joined dial that failed is followed by one of this caller's own. */
    private PeerSession dialAndAwait(Object key, Address address, WorkerId expected, long deadlineNanoTime) {
        Dial d = dial(key, address, expected);
        if (d.joined()) {
            try {
                d.future().get(Math.max(0, deadlineNanoTime - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof LinkRejectedException) && deadlineNanoTime - System.nanoTime() > 0) {
                    // the failed dial may still be on the books: its removal runs after this waiter is woken
                    dialing.remove(key, d.future());
                    PeerSession meanwhile = expected != null ? liveSession(expected) : liveSessionAt(address);
                    if (meanwhile != null) {
                        return meanwhile; // the peer dialed this runtime while the joined dial failed
                    }
                    LOG.debug("a dial to {} this caller joined failed ({}); dialing again", who(expected, address),
                        e.getCause().toString());
                    d = dial(key, address, expected);
                }
            } catch (TimeoutException e) {
                // await below says so, the same way as for a dial of this caller's own
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // and await below says so
            }
        }
        return await(d.future(), expected, address, deadlineNanoTime);
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
