package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bytes a writability check counts ({@link FrameSender#committedBytes}): frames offered and not yet
 * stamped, plus DATA frames kept for replay. Whatever path a frame leaves the outbox by, its bytes are
 * counted once while it waits and never after, or a link would report itself full for good.
 */
class FrameSenderTest {

    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    private static ByteBuf frame(byte type, int payload) {
        ByteBuf f = FrameCodec.begin(ALLOC, type, payload);
        f.writeZero(payload);
        return FrameCodec.finish(f);
    }

    @Test
    void countsEachDataFrameOnceFromManySendersAndNothingOnceAcknowledged() throws Exception {
        FrameSender sender = new FrameSender(false, why -> { }, ByteBuf::release);
        AtomicLong dataBytes = new AtomicLong();
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            int seed = t;
            senders.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 200; i++) {
                    boolean data = (i + seed) % 4 != 0; // ACK frames in between: sent, never kept
                    ByteBuf f = frame(data ? FrameCodec.TYPE_DATA : FrameCodec.TYPE_ACK, data ? 10 + (i * 37 + seed) % 500 : 0);
                    if (data) {
                        dataBytes.addAndGet(f.readableBytes());
                    }
                    sender.send(f, i % 2 == 0);
                }
            }));
        }
        for (Thread t : senders) {
            t.join();
        }
        // no connection: every DATA frame was stamped into the replay buffer, the rest dropped
        assertThat(sender.committedBytes()).isEqualTo(sender.unackedBytes()).isEqualTo(dataBytes.get());
        assertThat(sender.unackedFrames()).isEqualTo(16 * 150);

        sender.acked(16 * 150);
        sender.trim();
        assertThat(sender.committedBytes()).isZero();
        sender.kill(false);
    }

    @Test
    void countsNothingForFramesSentAfterTheEnd() {
        List<ByteBuf> notDelivered = new CopyOnWriteArrayList<>();
        FrameSender sender = new FrameSender(false, why -> { }, notDelivered::add);
        sender.send(frame(FrameCodec.TYPE_DATA, 100), false);
        sender.kill(true); // the peer's goodbye acknowledged nothing: the kept frame did not get there
        assertThat(sender.committedBytes()).isZero();

        sender.send(frame(FrameCodec.TYPE_DATA, 100), false);
        sender.send(frame(FrameCodec.TYPE_PING, 0), false);
        assertThat(sender.committedBytes()).isZero();
        assertThat(notDelivered).hasSize(2); // the kept one and the one sent after the end; the PING is only released
        notDelivered.forEach(ByteBuf::release);
    }
}
