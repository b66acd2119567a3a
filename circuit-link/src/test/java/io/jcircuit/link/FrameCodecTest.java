package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrameCodecTest {

    private static ByteBuf dataFrame(byte[] payload) {
        ByteBuf f = FrameCodec.begin(UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_DATA, payload.length);
        f.writeBytes(payload);
        return FrameCodec.finish(f);
    }

    @Test
    void shouldWriteTheDocumentedHeaderLayout() {
        ByteBuf f = dataFrame(new byte[] {1, 2, 3});
        try {
            FrameCodec.stamp(f, 7, 5);

            assertThat(f.readableBytes()).isEqualTo(FrameCodec.HEADER_LENGTH + 3);
            assertThat(f.getInt(FrameCodec.LENGTH_OFFSET)).isEqualTo(FrameCodec.HEADER_LENGTH - 4 + 3);
            assertThat(f.getByte(FrameCodec.VERSION_OFFSET)).isEqualTo(FrameCodec.VERSION);
            assertThat(FrameCodec.type(f)).isEqualTo(FrameCodec.TYPE_DATA);
            assertThat(FrameCodec.sequence(f)).isEqualTo(7);
            assertThat(FrameCodec.ack(f)).isEqualTo(5);
            assertThat(FrameCodec.validate(f)).isEqualTo(FrameCodec.TYPE_DATA);
        } finally {
            f.release();
        }
    }

    @Test
    void shouldReassembleAFrameSplitAcrossReads() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024, new BadPeerLog(org.slf4j.LoggerFactory.getLogger(FrameCodecTest.class))));
        ByteBuf whole = dataFrame(new byte[] {9, 8, 7, 6});

        assertThat(ch.writeInbound(whole.retainedSlice(0, 10))).isFalse();
        assertThat(ch.writeInbound(whole.retainedSlice(10, whole.readableBytes() - 10))).isTrue();

        ByteBuf frame = ch.readInbound();
        assertThat(FrameCodec.skipHeader(frame).readableBytes()).isEqualTo(4);
        frame.release();
        whole.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldRejectAFrameOverTheLimitBeforeBufferingIt() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024, new BadPeerLog(org.slf4j.LoggerFactory.getLogger(FrameCodecTest.class))));
        ByteBuf header = Unpooled.buffer().writeInt(1_000_000).writeByte(FrameCodec.VERSION).writeByte(FrameCodec.TYPE_DATA);

        assertThatThrownBy(() -> ch.writeInbound(header)).isInstanceOf(TooLongFrameException.class)
            .hasMessageContaining("1024");
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldNameATlsClientHelloAsSuchRatherThanAnOversizedFrame() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024, new BadPeerLog(org.slf4j.LoggerFactory.getLogger(FrameCodecTest.class))));
        // a TLS 1.2+ record header: handshake (0x16), version 3.1, length
        ByteBuf hello = Unpooled.buffer().writeBytes(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc});

        assertThatThrownBy(() -> ch.writeInbound(hello)).isInstanceOf(CorruptedFrameException.class)
            .hasMessageContaining("the peer opened a TLS connection").hasMessageContaining("same key");
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldRejectShortFramesUnknownTypesAndOtherVersions() {
        ByteBuf tooShort = Unpooled.buffer().writeInt(4).writeByte(1).writeByte(4).writeShort(0);
        ByteBuf unknownType = FrameCodec.finish(FrameCodec.begin(UnpooledByteBufAllocator.DEFAULT, (byte) 77, 0));
        ByteBuf otherVersion = dataFrame(new byte[0]);
        otherVersion.setByte(FrameCodec.VERSION_OFFSET, 9);
        try {
            assertThatThrownBy(() -> FrameCodec.validate(tooShort)).isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining("shorter than");
            assertThatThrownBy(() -> FrameCodec.validate(unknownType)).hasMessageContaining("unknown frame type 77");
            assertThatThrownBy(() -> FrameCodec.validate(otherVersion)).hasMessageContaining("version 9");
        } finally {
            tooShort.release();
            unknownType.release();
            otherVersion.release();
        }
    }

    /** What a frame held for {@code heldMillis} says, read back in milliseconds. */
    private static long heldRoundTrip(long heldMillis) {
        ByteBuf frame = Unpooled.buffer(FrameCodec.HEADER_LENGTH).writeZero(FrameCodec.HEADER_LENGTH);
        FrameCodec.setHeld(frame, 0, heldMillis * 1_000_000L);
        return FrameCodec.heldNanos(frame) / 1_000_000L;
    }

    @Test
    void aReplayedFrameSaysHowLongItWasHeldNeverMoreThanItWas() {
        assertThat(heldRoundTrip(0)).isZero();
        assertThat(heldRoundTrip(5)).isEqualTo(5);
        assertThat(heldRoundTrip(16_383)).isEqualTo(16_383);
        assertThat(heldRoundTrip(16_384)).isEqualTo(16_300); // tenths of a second from here, rounded down
        // before: 32,767 ms at most, so a call held 34 s with a 34 s deadline still ran once the network was back
        assertThat(heldRoundTrip(34_050)).isEqualTo(34_000);
        assertThat(heldRoundTrip(3_600_000)).isEqualTo(FrameCodec.MAX_HELD_NANOS / 1_000_000L).isEqualTo(1_638_300);
        ByteBuf fresh = Unpooled.buffer(FrameCodec.HEADER_LENGTH).writeZero(FrameCodec.HEADER_LENGTH);
        assertThat(FrameCodec.heldNanos(fresh)).as("a frame sent once").isZero();
    }
}
