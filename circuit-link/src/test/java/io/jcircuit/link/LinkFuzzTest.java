package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Feeds random and mutated byte streams into the receiving side of a link (the frame decoder and the
 * link handler, in Netty's {@code EmbeddedChannel}) as an accepting runtime would see them from a
 * hostile or broken peer. Every input must end in one of two ways: frames taken, or the connection
 * closed with a logged reason. Nothing may escape the pipeline, hang, or allocate without bound.
 *
 * <p>Seed and size: {@code -Dfuzz.seed} and {@code -Dfuzz.iterations} (default 500,000 streams of
 * up to seven frames, about 20 s; run with more before touching the decoder).
 */
class LinkFuzzTest {

    private static final int MAX_FRAME = 64 * 1024;
    private static final int WARM_UP = 2_000;

    /** Counts what reaches the layer above, and frees it. */
    private static final class Sink implements LinkListener {
        final AtomicLong data = new AtomicLong();

        @Override
        public void onLinkUp(Link link) {
        }

        @Override
        public void onData(Link link, ByteBuf frame) {
            data.incrementAndGet();
            frame.release();
        }

        @Override
        public void onLinkDown(Link link, String reason) {
        }
    }

    private static byte[] frame(byte type, long seq, byte[] payload) {
        ByteBuf f = FrameCodec.begin(UnpooledByteBufAllocator.DEFAULT, type, payload.length);
        f.writeBytes(payload);
        FrameCodec.finish(f);
        FrameCodec.stamp(f, seq, 0);
        byte[] out = new byte[f.readableBytes()];
        f.readBytes(out);
        f.release();
        return out;
    }

    private static byte[] hello(long session, boolean resume) {
        ByteBuf p = Unpooled.buffer();
        new Handshake(WorkerId.random(), 0, session, 0, resume, new Address("127.0.0.1", 1)).writeTo(p);
        byte[] bytes = new byte[p.readableBytes()];
        p.readBytes(bytes);
        return frame(FrameCodec.TYPE_HELLO, 0, bytes);
    }

    /** Frames built for the streams, before any mutation. */
    private static final AtomicLong FRAMES = new AtomicLong();

    /** A well-formed stream: HELLO, then DATA, PING, ACK frames in order. */
    private static byte[] validStream(SplittableRandom r) {
        List<byte[]> frames = new ArrayList<>();
        frames.add(hello(r.nextLong(), r.nextInt(8) == 0));
        int n = r.nextInt(6);
        long seq = 0;
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(4)) {
                case 0 -> frames.add(frame(FrameCodec.TYPE_PING, 0, new byte[0]));
                case 1 -> frames.add(frame(FrameCodec.TYPE_ACK, 0, new byte[0]));
                default -> {
                    byte[] payload = new byte[r.nextInt(200)];
                    r.nextBytes(payload);
                    frames.add(frame(FrameCodec.TYPE_DATA, ++seq, payload));
                }
            }
        }
        FRAMES.addAndGet(frames.size());
        int size = frames.stream().mapToInt(f -> f.length).sum();
        byte[] out = new byte[size];
        int at = 0;
        for (byte[] f : frames) {
            System.arraycopy(f, 0, out, at, f.length);
            at += f.length;
        }
        return out;
    }

    private static final byte[] INTERESTING = {0, 1, (byte) 0x7F, (byte) 0x80, (byte) 0xFF, FrameCodec.TYPE_DATA,
        FrameCodec.TYPE_HELLO, FrameCodec.TYPE_BYE, FrameCodec.VERSION};

    private static byte[] mutate(byte[] in, SplittableRandom r) {
        byte[] b = in.clone();
        int edits = 1 + r.nextInt(4);
        for (int e = 0; e < edits && b.length > 0; e++) {
            switch (r.nextInt(6)) {
                case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[r.nextInt(b.length)] = INTERESTING[r.nextInt(INTERESTING.length)];
                case 2 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length)); // truncate
                case 3 -> { // a length field set to something large
                    int at = r.nextInt(b.length);
                    int v = r.nextInt(4) == 0 ? Integer.MAX_VALUE : r.nextInt(MAX_FRAME * 4);
                    for (int i = 0; i < 4 && at + i < b.length; i++) {
                        b[at + i] = (byte) (v >>> (24 - 8 * i));
                    }
                }
                case 4 -> { // duplicate a slice
                    int from = r.nextInt(b.length);
                    int len = Math.min(b.length - from, 1 + r.nextInt(64));
                    byte[] grown = new byte[b.length + len];
                    System.arraycopy(b, 0, grown, 0, from + len);
                    System.arraycopy(b, from, grown, from + len, b.length - from);
                    b = grown;
                }
                default -> { // insert random bytes
                    int at = r.nextInt(b.length + 1);
                    byte[] junk = new byte[1 + r.nextInt(16)];
                    r.nextBytes(junk);
                    byte[] grown = new byte[b.length + junk.length];
                    System.arraycopy(b, 0, grown, 0, at);
                    System.arraycopy(junk, 0, grown, at, junk.length);
                    System.arraycopy(b, at, grown, at + junk.length, b.length - at);
                    b = grown;
                }
            }
        }
        return b;
    }

    /** Rethrows what escaped the pipeline; a write that found the connection closed is not that. */
    private static void checkException(EmbeddedChannel ch) {
        try {
            ch.checkException();
        } catch (Exception e) {
            if (!(e instanceof java.nio.channels.ClosedChannelException)) {
                throw e;
            }
        }
    }

    /**
     * Before its handshake a connection may send frames of a handshake's size only: a "HELLO" that
     * claims 15 MiB is refused at its header, not buffered; after the handshake the configured limit
     * holds.
     */
    @Test
    void shouldRefuseAFrameLargerThanAHandshakeBeforeTheHandshake() {
        LinkConfig config = LinkConfig.builder().maxFrameBytes(16 << 20).build();
        try (LinkTransport transport = LinkTransport.start(config, WorkerId.random(), new Sink())) {
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(config.maxFrameBytes(), transport.badPeerLog()),
                new LinkHandler(transport));
            ByteBuf header = Unpooled.buffer().writeInt(FrameCodec.HEADER_LENGTH - 4 + (15 << 20))
                .writeByte(FrameCodec.VERSION).writeByte(FrameCodec.TYPE_HELLO).writeZero(64 * 1024);
            ch.writeInbound(header);
            ch.runPendingTasks();
            assertThat(ch.isActive()).as("the connection is closed at the header of its 15 MiB 'HELLO'").isFalse();
            ch.finishAndReleaseAll();

            Sink sink = new Sink();
            try (LinkTransport other = LinkTransport.start(config, WorkerId.random(), sink)) {
                EmbeddedChannel open = new EmbeddedChannel(new FrameDecoder(config.maxFrameBytes(), other.badPeerLog()),
                    new LinkHandler(other));
                open.writeInbound(Unpooled.wrappedBuffer(hello(1, false)));
                open.writeInbound(Unpooled.wrappedBuffer(frame(FrameCodec.TYPE_DATA, 1, new byte[1 << 20])));
                open.runPendingTasks();
                assertThat(sink.data.get()).as("a 1 MiB DATA frame after the handshake is taken").isEqualTo(1);
                assertThat(open.isActive()).isTrue();
                for (Link l : other.links()) {
                    l.end("done", true);
                }
                open.runPendingTasks();
                open.finishAndReleaseAll();
            }
        }
    }

    @Test
    void shouldRefuseAHandshakeWithBytesAfterItsAddress() {
        ByteBuf p = Unpooled.buffer();
        new Handshake(WorkerId.random(), 0, 1, 0, false, new Address("127.0.0.1", 1)).writeTo(p);
        assertThat(Handshake.readFrom(p.copy()).address()).isEqualTo(new Address("127.0.0.1", 1));
        p.writeZero(100_000);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Handshake.readFrom(p))
            .isInstanceOf(io.netty.handler.codec.CorruptedFrameException.class)
            .hasMessageContaining("100000 bytes after its address");
    }

    @Test
    void shouldSurviveRandomAndMutatedStreams() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        int iterations = Integer.getInteger("fuzz.iterations", 500_000);
        System.out.println("LinkFuzzTest: seed " + seed + " (-Dfuzz.seed to repeat), " + iterations + " streams");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // Every rejected stream logs one line, as it should; a million of them would drown the report.
        var handlerLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(LinkHandler.class);
        var linkLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Link.class);
        var decoderLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(FrameDecoder.class);
        var handlerLevel = handlerLog.getLevel();
        var linkLevel = linkLog.getLevel();
        var decoderLevel = decoderLog.getLevel();
        handlerLog.setLevel(ch.qos.logback.classic.Level.ERROR);
        linkLog.setLevel(ch.qos.logback.classic.Level.ERROR);
        decoderLog.setLevel(ch.qos.logback.classic.Level.ERROR);
        Sink sink = new Sink();
        LinkConfig config = LinkConfig.builder().maxFrameBytes(MAX_FRAME).build();
        try (LinkTransport transport = LinkTransport.start(config, WorkerId.random(), sink)) {
            assertTimeoutPreemptively(Duration.ofMinutes(10), () -> {
                SplittableRandom r = new SplittableRandom(seed);
                long worstBytes = 0;
                long slowestNanos = 0;
                long closed = 0;
                for (int i = 0; i < iterations; i++) {
                    byte[] input = switch (r.nextInt(3)) {
                        case 0 -> { byte[] junk = new byte[r.nextInt(4096)]; r.nextBytes(junk); yield junk; }
                        case 1 -> validStream(r);
                        default -> mutate(validStream(r), r);
                    };
                    long t0 = System.nanoTime();
                    long a0 = mx.getCurrentThreadAllocatedBytes();
                    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(MAX_FRAME, transport.badPeerLog()), new LinkHandler(transport));
                    try {
                        // split the stream at a random point: frames must survive arriving in pieces
                        int cut = input.length == 0 ? 0 : r.nextInt(input.length);
                        ch.writeInbound(Unpooled.wrappedBuffer(input, 0, cut));
                        if (ch.isOpen()) { // the first piece may already have closed the connection
                            ch.writeInbound(Unpooled.wrappedBuffer(input, cut, input.length - cut));
                        }
                        ch.runPendingTasks();
                        checkException(ch);
                    } catch (Throwable t) {
                        fail("stream " + i + " escaped the pipeline with " + t + "; input "
                            + HexFormat.of().formatHex(input, 0, Math.min(input.length, 512)), t);
                    } finally {
                        for (Link l : transport.links()) {
                            l.end("fuzz input done", true); // before the close, so that nothing redials
                        }
                        ch.runPendingTasks();
                        if (!ch.isActive()) {
                            closed++;
                        }
                        ch.finishAndReleaseAll();
                    }
                    long took = System.nanoTime() - t0;
                    long allocated = mx.getCurrentThreadAllocatedBytes() - a0;
                    if (i < WARM_UP) {
                        continue; // class loading and first-time setup allocate once, not per stream
                    }
                    slowestNanos = Math.max(slowestNanos, took);
                    worstBytes = Math.max(worstBytes, allocated);
                    assertThat(allocated).as("allocation for a %d-byte stream", input.length)
                        .isLessThan(4L * MAX_FRAME + 64L * input.length + 1_000_000);
                }
                System.out.printf("LinkFuzzTest: %d streams (%d frames before mutation, plus random bytes), %d closed"
                        + " by the runtime, %d DATA frames taken, slowest %.1f ms, most allocated %d KiB%n",
                    iterations, FRAMES.get(), closed, sink.data.get(),
                    slowestNanos / 1e6, worstBytes / 1024);
                assertThat(transport.links()).isEmpty();
            });
        } finally {
            handlerLog.setLevel(handlerLevel);
            linkLog.setLevel(linkLevel);
            decoderLog.setLevel(decoderLevel);
        }
    }
}
