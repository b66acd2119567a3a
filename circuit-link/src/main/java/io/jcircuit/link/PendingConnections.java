package io.jcircuit.link;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * The accepted connections of one transport whose handshake is not done yet, oldest first, and at most
 * {@link LinkConfig#maxPendingConnections} of them. Until its handshake is done a connection is anyone's
 * who reached the port: without a bound, a peer that opens connections and says nothing would hold each
 * for the handshake timeout (the connect timeout, 5 s by default) and could use up the process's file
 * descriptors, and with them every new link (a redial after an outage, a new worker, the command line).
 *
 * <p>A connection accepted at the bound makes room by closing the <b>oldest silent</b> one (that has sent
 * no byte yet), or the oldest of all when every other one has spoken, rather than being refused itself.
 * Refusing the newcomer would let a flood hold the port shut with only as many silent connections as the
 * bound, renewed once per handshake timeout: every genuine peer would be turned away for as long as it
 * lasts. Closing the oldest lets every newcomer in, and a genuine peer speaks at once (its HELLO or TLS
 * hello), so a flood of connections that say nothing never pushes it out, however fast it opens them and
 * however long a loaded machine takes over the handshake (a probe's flood of 450 a second pushed out
 * first dials whose handshake took longer than the half second the oldest-of-all lasted). A flood that
 * speaks too pushes out the oldest, and a session's connection pushed out is redialed like any lost one.
 * Links whose handshake is done do not count.
 *
 * <p>Thread-safe: connections are accepted and finish their handshakes on every event loop.
 */
final class PendingConnections {

    private final int max;
    private final BadPeerLog log;
    /** Those that have sent nothing yet, in the order they were accepted. */
    private final LinkedHashSet<Channel> silent = new LinkedHashSet<>(); // guarded by this
    /** Those that have sent something, in the order they did. */
    private final LinkedHashSet<Channel> spoken = new LinkedHashSet<>(); // guarded by this

    PendingConnections(int max, BadPeerLog log) {
        if (max <= 0) {
            throw new IllegalArgumentException("max=" + max + " must be positive");
        }
        this.max = max;
        this.log = log;
    }

    /**
     * {@code channel} was accepted and waits for its handshake; when that makes one more than the bound,
     * the oldest silent connection other than it is closed, or the oldest that spoke when there is none
     * (with a warning, rate-limited). It stops waiting when it closes or {@link #done} says so.
     */
    void accepted(Channel channel) {
        Channel oldest = null;
        boolean spokeToo = false;
        synchronized (this) {
            silent.add(channel);
            if (silent.size() + spoken.size() > max) {
                Iterator<Channel> it = silent.iterator();
                oldest = it.next();
                if (oldest == channel) { // the only silent one: the others have all spoken
                    it = spoken.iterator();
                    oldest = it.next();
                    spokeToo = true;
                }
                it.remove();
            }
        }
        channel.closeFuture().addListener(f -> done(channel)); // added once it waits: runs at once if closed already
        if (oldest != null) {
            log.closed("connection from " + oldest.remoteAddress(), max + " accepted connections were waiting for"
                + " their handshake, the most allowed (LinkConfig.maxPendingConnections, circuit.link.maxPendingConnections):"
                + (spokeToo ? " each had begun its handshake, and the oldest makes room for a new one"
                    : " the oldest that has sent nothing yet makes room for a new one"));
            oldest.close();
        }
    }

    /** {@code channel} sent its first bytes: it is pushed out only once no silent connection is left. */
    void spoke(Channel channel) {
        synchronized (this) {
            if (silent.remove(channel)) {
                spoken.add(channel);
            }
        }
    }

    /** {@code channel}'s handshake is done (or it closed): it no longer counts against the bound. */
    void done(Channel channel) {
        synchronized (this) {
            if (!silent.remove(channel)) {
                spoken.remove(channel);
            }
        }
    }

    /** How many accepted connections wait for their handshake now. */
    synchronized int size() {
        return silent.size() + spoken.size();
    }

    /** How many of {@link #size} have sent something. */
    synchronized int spokenSize() {
        return spoken.size();
    }

    /**
     * At the head of an accepted connection's pipeline until its first bytes come: tells {@link #spoke},
     * then leaves the pipeline.
     */
    ChannelInboundHandlerAdapter firstBytesOf(Channel channel) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                spoke(channel);
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(msg);
            }
        };
    }
}
