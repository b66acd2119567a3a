package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The frame layer without the codec and without I/O: a frame's header written around a payload, and
 * frames cut out of the byte stream by the link's own {@link FrameDecoder} and checked as
 * {@link LinkHandler} checks them. The payload is opaque bytes of the size of the bench's echo call;
 * {@code CodecBench} measures what goes into it.
 *
 * <p>The decode benchmarks feed {@value #BATCH} frames per read, as a busy link reads them, and report
 * the time per frame. {@link #decodeSplit} cuts each read in the middle of a frame, so that the
 * decoder keeps a partial frame between reads, as it does when a read ends mid-frame.
 *
 * <p>This class sits in the link's package to reach the package-private decoder and header checks.
 * Run: {@code java -cp "circuit-cli/target/circuit-cli.jar:circuit-cli/target/lib/*" org.openjdk.jmh.Main FrameBench}
 */
public class FrameBench extends io.jcircuit.bench.hot.HotPathBench {

    /** Frames per read in the decode benchmarks. */
    static final int BATCH = 16;
    /** The payload of the bench's echo call, encoded, is about this long (see {@code CodecBench}). */
    static final int PAYLOAD_BYTES = 64;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final byte[] payload = new byte[PAYLOAD_BYTES];
    private EmbeddedChannel channel;
    private Sink sink;
    private ByteBuf stream;
    private int split;
    private long sequence;

    @Setup(Level.Trial)
    public void setUp() {
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        sink = new Sink();
        channel = new EmbeddedChannel(new FrameDecoder(LinkConfig.DEFAULT_MAX_FRAME_BYTES, new BadPeerLog(org.slf4j.LoggerFactory.getLogger(FrameBench.class))), sink);
        stream = alloc.directBuffer(BATCH * (FrameCodec.HEADER_LENGTH + PAYLOAD_BYTES));
        for (int i = 0; i < BATCH; i++) {
            ByteBuf f = frame(i + 1);
            stream.writeBytes(f);
            f.release();
        }
        split = stream.readableBytes() / 2 + 7; // inside a frame
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stream.release();
        channel.finishAndReleaseAll();
    }

    private ByteBuf frame(long seq) {
        ByteBuf f = FrameCodec.begin(alloc, FrameCodec.TYPE_DATA, PAYLOAD_BYTES);
        f.writeBytes(payload);
        FrameCodec.finish(f);
        FrameCodec.stamp(f, seq, seq - 1);
        return f;
    }

    /** One DATA frame written around a payload and stamped, as a sender makes it; returns its length. */
    @Benchmark
    public int encode() {
        ByteBuf f = frame(++sequence);
        int n = f.readableBytes();
        f.release();
        return n;
    }

    /** {@value #BATCH} whole frames in one read; the time is per frame. Returns the last sequence seen. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long decode() {
        channel.pipeline().fireChannelRead(stream.retainedDuplicate());
        return sink.last;
    }

    /** The same frames in two reads that split a frame; the time is per frame. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long decodeSplit() {
        channel.pipeline().fireChannelRead(stream.retainedSlice(stream.readerIndex(), split));
        channel.pipeline().fireChannelRead(stream.retainedSlice(stream.readerIndex() + split, stream.readableBytes() - split));
        return sink.last;
    }

    long framesSeen() {
        return sink.frames;
    }

    /** What the link handler does first with each frame: check the header, read its numbers, let go. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        long frames;
        long last;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                if (FrameCodec.validate(frame) != FrameCodec.TYPE_DATA
                    || FrameCodec.ack(frame) != FrameCodec.sequence(frame) - 1) {
                    throw new IllegalStateException("frame came out of the decoder changed");
                }
                last = FrameCodec.sequence(frame);
                frames++;
            } finally {
                frame.release();
            }
        }
    }
}
