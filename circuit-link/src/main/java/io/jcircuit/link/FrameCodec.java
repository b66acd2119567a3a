package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.CorruptedFrameException;

/**
 * The frame: the unit every link carries. This is the one place the layout is drawn.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Frame Length (bytes after this field)         |  0
 *  +---------------+---------------+-------------------------------+
 *  |    Version    |     Type      |             Flags             |  4
 *  +---------------+---------------+-------------------------------+
 *  |                      Sequence Number                          |  8
 *  |                  (DATA frames; 0 for others)                  |
 *  +---------------------------------------------------------------+
 *  |                            Ack                                | 16
 *  |       (highest Sequence Number received from the peer)        |
 *  +---------------------------------------------------------------+
 *  |                         Payload ...                           | 24
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>All integers are big-endian. The Frame Length is at least {@code HEADER_LENGTH - 4} and at most
 * the link's {@code maxFrameBytes}; a peer that sends anything else is cut off. Sequence numbers start
 * at 1 on each side and grow by one per DATA frame; every frame acknowledges what its sender has
 * received. A sender keeps every DATA frame until the peer acknowledges it, and replays the rest on
 * the next connection of the session, where the receiver skips what it already has (see {@link Link}).
 *
 * <p>Flags are 0, except on a DATA frame sent again after an outage: there they say how long the
 * sender held it since its first sending (bit 14 clear: milliseconds in bits 0-13; set: tenths of a
 * second, up to about 27 minutes), so that the receiver counts a call's deadline from when it was
 * sent. A receiver that ignores them only loses that.
 *
 * <p>Payloads by type: HELLO and WELCOME carry the handshake ({@link Handshake}); REJECT a reason
 * code and UTF-8 text; BYE a UTF-8 reason; DATA one message of the codec layer; PING, PONG and ACK
 * nothing (ACK exists only to carry the Ack field when there is nothing else to send). A BYE's Ack is
 * final: its sender handed the layer above no DATA frame beyond it, and never will.
 */
public final class FrameCodec {

    public static final int LENGTH_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int TYPE_OFFSET = 5;
    public static final int FLAGS_OFFSET = 6;
    public static final int SEQUENCE_OFFSET = 8;
    public static final int ACK_OFFSET = 16;
    public static final int HEADER_LENGTH = 24;
    public static final int LENGTH_FIELD_LENGTH = 4;

    public static final byte VERSION = 5;

    public static final byte TYPE_HELLO = 1;
    public static final byte TYPE_WELCOME = 2;
    public static final byte TYPE_REJECT = 3;
    public static final byte TYPE_DATA = 4;
    public static final byte TYPE_PING = 5;
    public static final byte TYPE_PONG = 6;
    public static final byte TYPE_BYE = 7;
    public static final byte TYPE_ACK = 8;

    private FrameCodec() {
    }

    /**
     * Allocates a frame of {@code type} with its header written and the writer index at the payload.
     * Finish it with {@link #finish(ByteBuf)} once the payload is written.
     */
    public static ByteBuf begin(ByteBufAllocator alloc, byte type, int payloadHint) {
        ByteBuf buf = alloc.ioBuffer(HEADER_LENGTH + Math.max(payloadHint, 0));
        buf.writeInt(0)
            .writeByte(VERSION)
            .writeByte(type)
            .writeShort(0)
            .writeLong(0)
            .writeLong(0);
        return buf;
    }

    /** Writes the Frame Length from the buffer's writer index; returns the buffer. */
    public static ByteBuf finish(ByteBuf frame) {
        frame.setInt(frame.readerIndex() + LENGTH_OFFSET, frame.readableBytes() - LENGTH_FIELD_LENGTH);
        return frame;
    }

    /** The type of a whole frame (reader index at the length field). */
    public static byte type(ByteBuf frame) {
        return frame.getByte(frame.readerIndex() + TYPE_OFFSET);
    }

    public static long sequence(ByteBuf frame) {
        return frame.getLong(frame.readerIndex() + SEQUENCE_OFFSET);
    }

    public static long ack(ByteBuf frame) {
        return frame.getLong(frame.readerIndex() + ACK_OFFSET);
    }

    /** Stamps sequence and ack into a finished frame; called on the event loop as it is written. */
    static void stamp(ByteBuf frame, long sequence, long ack) {
        int base = frame.readerIndex();
        frame.setLong(base + SEQUENCE_OFFSET, sequence);
        frame.setLong(base + ACK_OFFSET, ack);
    }

    /**
     * Checks a whole frame read off the wire and returns its type.
     *
     * @throws CorruptedFrameException with a message fit for the log when the header is bad
     */
    static byte validate(ByteBuf frame) {
        int length = frame.readableBytes();
        if (length < HEADER_LENGTH) {
            throw new CorruptedFrameException("frame of " + length + " bytes is shorter than the " + HEADER_LENGTH + "-byte header");
        }
        byte version = frame.getByte(frame.readerIndex() + VERSION_OFFSET);
        if (version != VERSION) {
            throw new CorruptedFrameException("frame version " + version + " is not supported (this runtime speaks version " + VERSION + ")");
        }
        byte type = type(frame);
        if (type < TYPE_HELLO || type > TYPE_ACK) {
            throw new CorruptedFrameException("unknown frame type " + type);
        }
        return type;
    }

    /**
     * A flag that never leaves the process: set on a frame queued for sending to say it should go
     * through the event loop, and cleared before the frame is written. Flags on the wire are 0.
     */
    private static final short LOCAL_VIA_EVENT_LOOP = (short) 0x8000;

    static void markViaEventLoop(ByteBuf frame) {
        frame.setShort(frame.readerIndex() + FLAGS_OFFSET, LOCAL_VIA_EVENT_LOOP);
    }

    /** Returns whether the frame was marked, and clears the mark. */
    static boolean takeViaEventLoopMark(ByteBuf frame) {
        int at = frame.readerIndex() + FLAGS_OFFSET;
        boolean marked = frame.getShort(at) == LOCAL_VIA_EVENT_LOOP;
        if (marked) {
            frame.setShort(at, 0);
        }
        return marked;
    }

    /** The held time's bits in the Flags field; the top bit is {@link #LOCAL_VIA_EVENT_LOOP}'s. */
    private static final int HELD_BITS = 0x7FFF;
    /** Set in the held time: the other 14 bits count tenths of a second, not milliseconds. */
    private static final int HELD_IN_TENTHS = 0x4000;
    private static final int HELD_COUNT = 0x3FFF;
    /** The most a frame can say it was held: 16,383 tenths of a second, about 27 minutes. */
    static final long MAX_HELD_NANOS = HELD_COUNT * 100_000_000L;

    /**
     * Writes into the Flags field of the frame at {@code at} how long it was held at this side before
     * this sending: a DATA frame replayed after an outage says so, and its receiver counts the time it
     * waited. In milliseconds below 16,384 ms, in tenths of a second above (rounded down, so never more
     * than it was), at most {@link #MAX_HELD_NANOS}.
     */
    static void setHeld(ByteBuf buf, int at, long heldNanos) {
        long millis = Math.max(0, heldNanos / 1_000_000L);
        int value = millis <= HELD_COUNT ? (int) millis : HELD_IN_TENTHS | (int) Math.min(millis / 100, HELD_COUNT);
        buf.setShort(at + FLAGS_OFFSET, value);
    }

    /** How long a frame read off the wire says it was held at its sender, in nanoseconds. */
    static long heldNanos(ByteBuf frame) {
        int value = frame.getShort(frame.readerIndex() + FLAGS_OFFSET) & HELD_BITS;
        return (value & HELD_IN_TENTHS) == 0 ? value * 1_000_000L : (value & HELD_COUNT) * 100_000_000L;
    }

    /** Positions the reader index at the payload of a whole frame. */
    public static ByteBuf skipHeader(ByteBuf frame) {
        return frame.skipBytes(HEADER_LENGTH);
    }
}
