package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;

import java.nio.charset.StandardCharsets;

/**
 * The handshake payloads. The dialer sends HELLO, the acceptor answers WELCOME or REJECT.
 *
 * <pre>
 *  HELLO    | sender (8) | expected peer, 0 = any (8) | session (8) | received (8) | flags (1) | address length (2) | address |
 *  WELCOME  | sender (8) | 0 (8)                      | session (8) | received (8) | 0 (1)     | address length (2) | address |
 *  REJECT   | code (1) | reason UTF-8 |
 * </pre>
 *
 * <p>A session is named by the pair of worker ids and a random session number that its first dialer
 * draws. A HELLO with the RESUME flag asks to carry on an existing session over a new connection;
 * {@code received} is then the highest DATA sequence number its sender has, so the other side knows
 * where to start replaying. The expected id lets a dialer that holds a reference refuse a different
 * worker that now listens at the old address.
 */
record Handshake(WorkerId sender, long expectedPeer, long session, long received, boolean resume, Address address) {

    static final int FLAG_RESUME = 1;

    /** REJECT codes: why a HELLO was refused, which decides what the dialer does next. */
    static final byte REJECT_WRONG_PEER = 1;
    static final byte REJECT_UNKNOWN_SESSION = 2;
    static final byte REJECT_DUPLICATE = 3;
    static final byte REJECT_PROTOCOL = 4;

    private static final int MAX_ADDRESS_BYTES = 1024;
    private static final int FIXED_BYTES = 8 + 8 + 8 + 8 + 1 + 2;

    void writeTo(ByteBuf buf) {
        byte[] addr = address.toString().getBytes(StandardCharsets.UTF_8);
        buf.writeLong(sender.value()).writeLong(expectedPeer).writeLong(session).writeLong(received)
            .writeByte(resume ? FLAG_RESUME : 0).writeShort(addr.length).writeBytes(addr);
    }

    static Handshake readFrom(ByteBuf payload) {
        if (payload.readableBytes() < FIXED_BYTES) {
            throw new CorruptedFrameException("handshake payload of " + payload.readableBytes() + " bytes is too short");
        }
        long sender = payload.readLong();
        long expected = payload.readLong();
        long session = payload.readLong();
        long received = payload.readLong();
        int flags = payload.readUnsignedByte();
        int len = payload.readUnsignedShort();
        if (len > MAX_ADDRESS_BYTES || len > payload.readableBytes()) {
            throw new CorruptedFrameException("handshake address length " + len + " is invalid");
        }
        if (received < 0 || (flags & ~FLAG_RESUME) != 0) {
            throw new CorruptedFrameException("bad handshake: received=" + received + " flags=" + flags);
        }
        String addr = payload.readCharSequence(len, StandardCharsets.UTF_8).toString();
        if (payload.isReadable()) {
            throw new CorruptedFrameException("handshake payload has " + payload.readableBytes()
                + " bytes after its address");
        }
        try {
            return new Handshake(new WorkerId(sender), expected, session, received, (flags & FLAG_RESUME) != 0,
                Address.parse(addr));
        } catch (IllegalArgumentException e) {
            throw new CorruptedFrameException("bad handshake: " + e.getMessage());
        }
    }

    /** Longest REJECT reason sent, in characters: the frame must fit {@link FrameDecoder#MAX_HANDSHAKE_FRAME_BYTES}. */
    static final int MAX_REJECT_REASON_CHARS = 1000;

    /** Writes a REJECT payload; a reason longer than {@link #MAX_REJECT_REASON_CHARS} is cut short. */
    static void writeReject(ByteBuf buf, byte code, String reason) {
        String cut = reason.length() <= MAX_REJECT_REASON_CHARS ? reason
            : reason.substring(0, MAX_REJECT_REASON_CHARS - 3) + "...";
        buf.writeByte(code).writeCharSequence(cut, StandardCharsets.UTF_8);
    }
}
