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
 *  HELLO    | sender WorkerId (8) | expected peer WorkerId, 0 = any (8) | address length (2) | address UTF-8 |
 *  WELCOME  | sender WorkerId (8) | 0 (8)                               | address length (2) | address UTF-8 |
 * </pre>
 *
 * The expected id lets a dialer that holds a reference refuse a different worker that now listens
 * at the old address: the acceptor answers REJECT, and the dial fails naming both ids.
 */
record Handshake(WorkerId sender, long expectedPeer, Address address) {

    private static final int MAX_ADDRESS_BYTES = 1024;

    void writeTo(ByteBuf buf) {
        byte[] addr = address.toString().getBytes(StandardCharsets.UTF_8);
        buf.writeLong(sender.value()).writeLong(expectedPeer).writeShort(addr.length).writeBytes(addr);
    }

    static Handshake readFrom(ByteBuf payload) {
        if (payload.readableBytes() < 18) {
            throw new CorruptedFrameException("handshake payload of " + payload.readableBytes() + " bytes is too short");
        }
        long sender = payload.readLong();
        long expected = payload.readLong();
        int len = payload.readUnsignedShort();
        if (len > MAX_ADDRESS_BYTES || len > payload.readableBytes()) {
            throw new CorruptedFrameException("handshake address length " + len + " is invalid");
        }
        String addr = payload.readCharSequence(len, StandardCharsets.UTF_8).toString();
        try {
            return new Handshake(new WorkerId(sender), expected, Address.parse(addr));
        } catch (IllegalArgumentException e) {
            throw new CorruptedFrameException("bad handshake: " + e.getMessage());
        }
    }
}
