package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

import java.util.List;

/**
 * Splits the byte stream into whole frames by their length prefix (Netty's decoder does the work),
 * enforcing the hard frame limit before a byte of an oversized frame is buffered, and logging a
 * frame cut short by the connection closing.
 *
 * <p>Until {@link #handshakeDone()} the limit is {@link #MAX_HANDSHAKE_FRAME_BYTES}: before its
 * handshake a connection is nobody's, and must not make this process buffer a frame as large as a
 * session's DATA (16 MiB by default) for what can only be a HELLO, WELCOME or REJECT of about 1 KB.
 */
final class FrameDecoder extends LengthFieldBasedFrameDecoder {

    /**
     * The largest frame taken before the handshake is done: a HELLO or WELCOME (at most 24 + 35 + 1,024
     * bytes, see {@link Handshake}) or a REJECT, whose reason is cut to fit ({@link Handshake#writeReject}).
     */
    static final int MAX_HANDSHAKE_FRAME_BYTES = 4096;

    private final BadPeerLog badPeers;
    /** The frame limit now: {@link #MAX_HANDSHAKE_FRAME_BYTES} until the handshake is done. Event loop only. */
    private int limit;

    FrameDecoder(int maxFrameBytes, BadPeerLog badPeers) {
        super(maxFrameBytes, FrameCodec.LENGTH_OFFSET, FrameCodec.LENGTH_FIELD_LENGTH, 0, 0, true);
        this.badPeers = badPeers;
        this.limit = Math.min(maxFrameBytes, MAX_HANDSHAKE_FRAME_BYTES);
    }

    /** Event loop: the connection's handshake is done; from the next frame on the configured limit applies. */
    void handshakeDone() {
        limit = Integer.MAX_VALUE; // Netty's own check holds the configured limit
    }

    /** Whether the first bytes of the connection were looked at. */
    private boolean first = true;

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (first && in.readableBytes() >= 2) {
            first = false;
            // A TLS record starts 0x16 0x03: read as a length that is some 370 MB, far past any frame
            // limit. Say what it is rather than "frame length exceeds".
            if (isTls(in)) {
                in.skipBytes(in.readableBytes()); // none of it is ours
                throw new io.netty.handler.codec.CorruptedFrameException("the peer opened a TLS connection: it runs with a"
                    + " cluster key, and this runtime without one; give both sides the same key, or neither");
            }
        }
        if (limit != Integer.MAX_VALUE && in.readableBytes() >= FrameCodec.LENGTH_FIELD_LENGTH) {
            long frameBytes = in.getUnsignedInt(in.readerIndex() + FrameCodec.LENGTH_OFFSET) + FrameCodec.LENGTH_FIELD_LENGTH;
            if (frameBytes > limit) {
                in.skipBytes(in.readableBytes()); // the connection closes over it; nothing more of it is read
                throw new io.netty.handler.codec.TooLongFrameException("a frame of " + frameBytes
                    + " bytes before the handshake is done exceeds the handshake limit of " + limit + " bytes");
            }
        }
        return super.decode(ctx, in);
    }

    /** A TLS record starts 0x16 0x03. */
    private static boolean isTls(ByteBuf in) {
        return in.readableBytes() >= 2 && in.getByte(in.readerIndex()) == 0x16 && in.getByte(in.readerIndex() + 1) == 0x03;
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (in.isReadable()) {
            badPeers.closed("connection from " + ctx.channel().remoteAddress(),
                "mid-frame: " + in.readableBytes() + " bytes of a truncated frame discarded");
            in.skipBytes(in.readableBytes());
        }
    }
}
