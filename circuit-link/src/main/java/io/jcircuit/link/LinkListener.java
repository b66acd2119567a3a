package io.jcircuit.link;

import io.netty.buffer.ByteBuf;

/**
 * What a {@link LinkTransport} reports to the layer above. Every method is called on the link's
 * event loop (but {@link #onNotDelivered}, see there): it must return quickly and never block.
 */
public interface LinkListener {

    /** A link finished its handshake, dialed or accepted. */
    void onLinkUp(Link link);

    /**
     * A DATA frame arrived, its reader index at the payload. The listener owns {@code frame} and must
     * release it, on any thread.
     */
    void onData(Link link, ByteBuf frame);

    /**
     * {@link #onData(Link, ByteBuf)} for a frame that its sender held for {@code senderHeldNanos} before
     * it sent it on this connection: one replayed after an outage (0 for others, and below a millisecond).
     */
    default void onData(Link link, ByteBuf frame, long senderHeldNanos) {
        onData(link, frame);
    }

    /**
     * A DATA frame this side sent, its reader index at the payload, that the peer surely never handed
     * to the layer above: its goodbye said so (it names the last frame it took), or the frame never left
     * this process (the session ended first). What it asked for was not done there. Called before
     * {@link #onLinkDown} for the frames known at the end of the session, and for a frame sent after the
     * end on the sending thread. The listener owns {@code payload} and must release it; the default
     * releases it. Must return quickly and never block.
     */
    default void onNotDelivered(Link link, ByteBuf payload) {
        payload.release();
    }

    /** A link that was up has closed; {@code reason} says why in words fit for a log. */
    void onLinkDown(Link link, String reason);
}
