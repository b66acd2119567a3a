package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

import java.util.List;

/**
 * Splits the byte stream into whole frames by their length prefix (Netty's decoder does the work),
 * enforcing the hard frame limit before a byte of an oversized frame is buffered, and logging a
 * frame cut short by the connection closing.
 */
final class FrameDecoder extends LengthFieldBasedFrameDecoder {

    private final BadPeerLog badPeers;

    FrameDecoder(int maxFrameBytes, BadPeerLog badPeers) {
        super(maxFrameBytes, FrameCodec.LENGTH_OFFSET, FrameCodec.LENGTH_FIELD_LENGTH, 0, 0, true);
        this.badPeers = badPeers;
    }

    /** Whether the first bytes of the connection were looked at. */
    private boolean first = true;

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (first && in.readableBytes() >= 2) {
            first = false;
            // A TLS record starts 0x16 0x03: read as a length that is some 370 MB, far past any frame
            // limit. Say what it is rather than "frame length exceeds".
            if (in.getByte(in.readerIndex()) == 0x16 && in.getByte(in.readerIndex() + 1) == 0x03) {
                in.skipBytes(in.readableBytes()); // none of it is ours
                throw new io.netty.handler.codec.CorruptedFrameException("the peer opened a TLS connection: it runs with a"
                    + " cluster key, and this runtime without one; give both sides the same key, or neither");
            }
        }
        return super.decode(ctx, in);
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
