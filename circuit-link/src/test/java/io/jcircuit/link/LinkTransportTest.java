package io.jcircuit.link;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinkTransportTest {

    /** Records link events for assertions. */
    static final class Recorder implements LinkListener {
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

    private static ByteBuf text(Link link, String s) {
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
            ab.send(text(ab, "ping"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("ping");
            ba.send(text(ba, "pong"));
            assertThat(ra.data.poll(5, TimeUnit.SECONDS)).isEqualTo("pong");

            ab.close("test done");
            assertThat(ra.down.poll(5, TimeUnit.SECONDS)).isEqualTo("test done");
            assertThat(rb.down.poll(5, TimeUnit.SECONDS)).contains("closed");
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

    @Test
    void shouldValidateSettingsNamingTheValue() {
        assertThatThrownBy(() -> LinkConfig.builder().maxFrameBytes(10).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxFrameBytes=10");
        assertThatThrownBy(() -> LinkConfig.builder().bindHost("0.0.0.0").build())
            .hasMessageContaining("advertisedHost");
    }
}
