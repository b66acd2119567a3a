package io.jcircuit.link;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinkTransportTest {

    /** Records link events for assertions. */
    static class Recorder implements LinkListener {
        final BlockingQueue<Link> up = new LinkedBlockingQueue<>();
        final BlockingQueue<String> data = new LinkedBlockingQueue<>();
        final BlockingQueue<String> down = new LinkedBlockingQueue<>();

        @Override
        public void onLinkUp(Link link) {
            up.add(link);
        }

        @Override
        public void onData(Link link, ByteBuf frame) {
            data.add(frame.toString(StandardCharsets.UTF_8));
            frame.release();
        }

        @Override
        public void onLinkDown(Link link, String reason) {
            down.add(reason);
        }
    }

    /**
     * Makes {@code ab}'s connection busy: sends it the frames after which it writes directly where it can
     * ({@link FrameSender#DIRECT_AFTER}), takes them off {@code rb}, and with {@code direct} waits until
     * the writer is in place (it is bound off the sending thread).
     */
    static void busy(Link ab, Recorder rb, boolean direct) throws InterruptedException {
        for (int i = 0; i < FrameSender.DIRECT_AFTER; i++) {
            ab.send(text(ab, "busy " + i));
        }
        for (int i = 0; i < FrameSender.DIRECT_AFTER; i++) {
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("busy " + i);
        }
        if (direct) {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(ab::writesDirectly);
        }
    }

    static ByteBuf text(Link link, String s) {
        ByteBuf f = FrameCodec.begin(link.alloc(), FrameCodec.TYPE_DATA, s.length());
        f.writeCharSequence(s, StandardCharsets.UTF_8);
        return FrameCodec.finish(f);
    }

    @Test
    void shouldExchangeWorkerIdsAndCarryFramesBothWays() throws Exception {
        WorkerId idA = WorkerId.random();
        WorkerId idB = WorkerId.random();
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        try (LinkTransport a = LinkTransport.start(LinkConfig.builder().build(), idA, ra);
             LinkTransport b = LinkTransport.start(LinkConfig.builder().build(), idB, rb)) {

            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            Link ba = rb.up.poll(5, TimeUnit.SECONDS);

            assertThat(ab.peer()).isEqualTo(idB);
            assertThat(ba.peer()).isEqualTo(idA);
            assertThat(ba.peerAddress()).isEqualTo(a.address());
            assertThat(ab.writesDirectly()).as("a connection that has carried nothing yet").isFalse();
            busy(ab, rb, a.isEpoll());
            assertThat(ab.writesDirectly()).isEqualTo(a.isEpoll());
            ab.send(text(ab, "ping"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("ping");
            ba.send(text(ba, "pong"));
            assertThat(ra.data.poll(5, TimeUnit.SECONDS)).isEqualTo("pong");

            ab.close("test done");
            assertThat(ra.down.poll(5, TimeUnit.SECONDS)).isEqualTo("test done");
            assertThat(rb.down.poll(5, TimeUnit.SECONDS)).isEqualTo("worker " + idA + " said goodbye: test done");
        }
    }

    @ParameterizedTest(name = "epoll={0} directWrites={1}")
    @CsvSource({"true,true", "true,false", "false,false"})
    void shouldKeepFramesInOrderWhenTheSocketFillsUpUnderConcurrentSenders(boolean epoll, boolean direct) throws Exception {
        LinkConfig config = LinkConfig.builder().preferEpoll(epoll).directWrites(direct).build();
        WorkerId idB = WorkerId.random();
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        int threads = 4;
        int perThread = 600;
        String padding = "x".repeat(8 * 1024);
        try (LinkTransport a = LinkTransport.start(config, WorkerId.random(), ra);
             LinkTransport b = LinkTransport.start(config, idB, rb)) {
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            Link ba = rb.up.poll(5, TimeUnit.SECONDS);
            busy(ab, rb, direct && a.isEpoll());
            assertThat(ab.writesDirectly()).isEqualTo(direct && a.isEpoll());
            ba.pauseReading(); // the peer stops reading: socket buffers fill and writes go partial

            List<Thread> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                senders.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        ab.send(text(ab, id + ":" + i + ":" + padding), i % 3 == 0);
                    }
                }));
            }
            for (Thread th : senders) {
                th.join();
            }
            ba.resumeReading();

            int[] next = new int[threads];
            for (int n = 0; n < threads * perThread; n++) {
                String got = rb.data.poll(10, TimeUnit.SECONDS);
                assertThat(got).as("frame %d of %d arrived", n, threads * perThread).isNotNull();
                String[] parts = got.split(":", 3);
                int sender = Integer.parseInt(parts[0]);
                assertThat(Integer.parseInt(parts[1])).as("frames of sender %d stay in order", sender).isEqualTo(next[sender]++);
                assertThat(parts[2]).hasSize(padding.length());
            }
            assertThat(ba.isOpen()).as("no sequence gap closed the link").isTrue();
        }
    }

    @ParameterizedTest(name = "epoll={0}")
    @CsvSource({"true", "false"})
    void shouldKeepDataInOrderWhileTheEventLoopAnswersPings(boolean epoll) throws Exception {
        LinkConfig config = LinkConfig.builder().preferEpoll(epoll).build();
        WorkerId idB = WorkerId.random();
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        int threads = 4;
        int perThread = 20_000;
        try (LinkTransport a = LinkTransport.start(config, WorkerId.random(), ra);
             LinkTransport b = LinkTransport.start(config, idB, rb)) {
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            Link ba = rb.up.poll(5, TimeUnit.SECONDS);
            java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread pinger = Thread.ofVirtual().start(() -> {
                while (sending.get()) { // b pings a; a's event loop answers while a's threads send DATA
                    ba.send(FrameCodec.finish(FrameCodec.begin(ba.alloc(), FrameCodec.TYPE_PING, 0)));
                    Thread.yield();
                }
            });
            List<Thread> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                senders.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        ab.send(text(ab, id + ":" + i), i % 2 == 0);
                    }
                }));
            }
            for (Thread th : senders) {
                th.join();
            }
            sending.set(false);
            pinger.join();

            int[] next = new int[threads];
            for (int n = 0; n < threads * perThread; n++) {
                String got = rb.data.poll(10, TimeUnit.SECONDS);
                assertThat(got).as("frame %d arrived (the link closes on a sequence gap)", n).isNotNull();
                String[] parts = got.split(":");
                int sender = Integer.parseInt(parts[0]);
                assertThat(Integer.parseInt(parts[1])).isEqualTo(next[sender]++);
            }
            assertThat(ba.isOpen()).isTrue();
        }
    }

    @Test
    void shouldDeliverWelcomeBeforeDataThatTheAcceptorSendsAtOnce() throws Exception {
        WorkerId idB = WorkerId.random();
        Recorder ra = new Recorder();
        Recorder rb = new Recorder() {
            @Override
            public void onLinkUp(Link link) {
                super.onLinkUp(link);
                Thread.ofVirtual().start(() -> link.send(text(link, "right away")));
            }
        };
        try (LinkTransport a = LinkTransport.start(LinkConfig.builder().build(), WorkerId.random(), ra);
             LinkTransport b = LinkTransport.start(LinkConfig.builder().build(), idB, rb)) {
            for (int i = 0; i < 50; i++) {
                Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
                assertThat(ra.data.poll(5, TimeUnit.SECONDS)).isEqualTo("right away");
                ab.close("next round");
            }
        }
    }

    @Test
    void shouldRefuseADialThatExpectsAnotherWorker() throws Exception {
        WorkerId idB = WorkerId.random();
        WorkerId someoneElse = WorkerId.random();
        try (LinkTransport a = LinkTransport.start(LinkConfig.builder().build(), WorkerId.random(), new Recorder());
             LinkTransport b = LinkTransport.start(LinkConfig.builder().build(), idB, new Recorder())) {

            CompletableFuture<Link> dial = a.dial(b.address(), someoneElse);

            assertThatThrownBy(() -> dial.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(LinkRejectedException.class)
                .hasMessageContaining("served by worker " + idB).hasMessageContaining("not " + someoneElse);
        }
    }

    /**
     * A peer that floods PINGs and reads nothing gets one PONG per read burst, and none while the
     * connection cannot take more: nothing piles up in this process past Netty's high-water mark.
     */
    @Test
    void shouldNotQueuePongsForAPeerThatFloodsPingsAndReadsNothing() throws Exception {
        LinkConfig config = LinkConfig.builder().build();
        Recorder rb = new Recorder();
        try (LinkTransport b = LinkTransport.start(config, WorkerId.random(), rb);
             java.net.Socket peer = new java.net.Socket()) {
            peer.setReceiveBufferSize(4096);
            peer.connect(new java.net.InetSocketAddress(b.address().host(), b.address().port()));
            ByteBuf hello = FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_HELLO, 64);
            new Handshake(WorkerId.random(), 0, 7, 0, false, new io.jcircuit.Address("127.0.0.1", 1)).writeTo(hello);
            var out = peer.getOutputStream();
            out.write(bytes(FrameCodec.finish(hello)));
            Link link = rb.up.poll(5, TimeUnit.SECONDS);
            assertThat(link).isNotNull();
            io.netty.channel.Channel channel = link.current().channel();
            byte[] ping = bytes(FrameCodec.finish(FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT,
                FrameCodec.TYPE_PING, 0)));
            byte[] burst = new byte[ping.length * 4096];
            for (int i = 0; i < 4096; i++) {
                System.arraycopy(ping, 0, burst, i * ping.length, ping.length);
            }
            long most = 0;
            for (int i = 0; i < 160; i++) { // 655,360 PINGs, 15 MiB: as many PONGs would be as much
                out.write(burst);
                most = Math.max(most, pendingWriteBytes(channel));
            }
            // a DATA frame behind them: once it is taken, every PING before it has been read
            ByteBuf last = FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_DATA, 4);
            last.writeCharSequence("last", StandardCharsets.UTF_8);
            FrameCodec.finish(last);
            FrameCodec.stamp(last, 1, 0);
            out.write(bytes(last));
            out.flush();
            assertThat(rb.data.poll(10, TimeUnit.SECONDS)).isEqualTo("last");
            most = Math.max(most, pendingWriteBytes(channel));
            assertThat(most).as("PONG bytes queued for a peer that reads nothing (high-water mark %d)",
                config.writeHighWaterBytes()).isLessThan(2L * config.writeHighWaterBytes());
        }
    }

    private static long pendingWriteBytes(io.netty.channel.Channel channel) {
        var buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    private static byte[] bytes(ByteBuf frame) {
        byte[] b = new byte[frame.readableBytes()];
        frame.readBytes(b);
        frame.release();
        return b;
    }

    @Test
    void shouldValidateSettingsNamingTheValue() {
        assertThatThrownBy(() -> LinkConfig.builder().maxFrameBytes(10).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxFrameBytes=10");
        assertThatThrownBy(() -> LinkConfig.builder().bindHost("0.0.0.0").insecure(true).build())
            .hasMessageContaining("advertisedHost");
        assertThatThrownBy(() -> LinkTransport.start(LinkConfig.builder().bindHost("10.1.2.3").build(),
                WorkerId.random(), new Recorder()))
            .hasMessageContaining("the address 10.1.2.3 is not a loopback address").hasMessageContaining("--insecure");
        LinkConfig.builder().bindHost("::1").build().checkExposure();
        LinkConfig.builder().bindHost("localhost").build().checkExposure();
        LinkConfig.builder().bindHost("10.1.2.3").insecure(true).build().checkExposure();
    }
}
