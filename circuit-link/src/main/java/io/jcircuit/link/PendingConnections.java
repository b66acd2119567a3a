package io.jcircuit.link;

import io.netty.channel.Channel;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * The accepted connections of one transport whose handshake is not done yet, oldest first, and at most
 * {@link LinkConfig#maxPendingConnections} of them. Until its handshake is done a connection is anyone's
 * who reached the port: without a bound, a peer that opens connections and says nothing would hold each
 * for the handshake timeout (the connect timeout, 5 s by default) and could use up the process's file
 * descriptors, and with them every new link (a redial after an outage, a new worker, the command line).
 *
 * <p>A connection accepted at the bound makes room by closing the <b>oldest</b> waiting one, rather than
 * being refused itself. Refusing the newcomer would let a flood hold the port shut with only as many
 * silent connections as the bound, renewed once per handshake timeout: every genuine peer would be
 * turned away for as long as it lasts. Closing the oldest lets every newcomer in; a genuine peer's
 * handshake takes milliseconds, so to push it out, a flood must open as many connections as the bound
 * within those milliseconds, and a genuine connection that is pushed out all the same is redialed like
 * any lost one. Links whose handshake is done do not count.
 *
 * <p>Thread-safe: connections are accepted and finish their handshakes on every event loop.
 */
final class PendingConnections {

    private final int max;
    private final BadPeerLog log;
    /** In the order they were accepted. */
    private final LinkedHashSet<Channel> waiting = new LinkedHashSet<>(); // guarded by this

    PendingConnections(int max, BadPeerLog log) {
        if (max <= 0) {
            throw new IllegalArgumentException("max=" + max + " must be positive");
        }
        this.max = max;
        this.log = log;
    }

    /**
     * {@code channel} was accepted and waits for its handshake; when that makes one more than the bound,
     * the oldest waiting connection is closed (with a warning, rate-limited). It stops waiting when it
     * closes or {@link #done} says so.
     */
    void accepted(Channel channel) {
        Channel oldest = null;
        synchronized (this) {
            waiting.add(channel);
            if (waiting.size() > max) {
                Iterator<Channel> it = waiting.iterator();
                oldest = it.next();
                it.remove();
            }
        }
        channel.closeFuture().addListener(f -> done(channel)); // added once it waits: runs at once if closed already
        if (oldest != null) {
            log.closed("connection from " + oldest.remoteAddress(), max + " accepted connections were waiting for"
                + " their handshake, the most allowed (LinkConfig.maxPendingConnections, circuit.link.maxPendingConnections):"
                + " the oldest makes room for a new one");
            oldest.close();
        }
    }

    /** {@code channel}'s handshake is done (or it closed): it no longer counts against the bound. */
    void done(Channel channel) {
        synchronized (this) {
            waiting.remove(channel);
        }
    }

    /** How many accepted connections wait for their handshake now. */
    synchronized int size() {
        return waiting.size();
    }
}
