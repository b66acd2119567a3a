package io.jcircuit.link;

import io.jcircuit.WorkerId;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.link.tls.ClusterTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Links over mutual TLS 1.3 from a cluster key, on real loopback sockets. */
class LinkTlsTest {

    private static final ClusterKey KEY = ClusterKey.generate();
    private static final ClusterKey OTHER_KEY = ClusterKey.generate();

    private static LinkTransport start(WorkerId id, ClusterKey key, LinkListener listener) {
        LinkConfig.Builder b = LinkConfig.builder().heartbeatIntervalMs(100).silenceLimitMs(500).redialMinMs(5).redialMaxMs(100);
        if (key != null) {
            b.tls(ClusterTls.of(key.issue(id.toString())));
        }
        return LinkTransport.start(b.build(), id, listener);
    }

    private static ByteBuf text(Link link, String s) {
        return LinkTransportTest.text(link, s);
    }

    @Test
    void shouldCarryFramesOverMutualTlsAndResumeAfterAReset() throws Exception {
        WorkerId idA = WorkerId.random();
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder ra = new LinkTransportTest.Recorder();
        LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        try (LinkTransport a = start(idA, KEY, ra); LinkTransport b = start(idB, KEY, rb)) {
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            Link ba = rb.up.poll(5, TimeUnit.SECONDS);
            assertThat(ab.writesDirectly()).as("direct writes would go around TLS").isFalse();
            ab.send(text(ab, "sealed"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("sealed");
            assertThat(ab.current().channel().pipeline().first()).isInstanceOf(io.netty.handler.ssl.SslHandler.class);

            LinkHandler c = ab.current();
            c.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            c.channel().close();
            ab.send(text(ab, "after the reset"));
            ba.send(text(ba, "back"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("after the reset");
            assertThat(ra.data.poll(5, TimeUnit.SECONDS)).isEqualTo("back");
            assertThat(ab.outages()).isEqualTo(1);
        }
    }

    @Test
    void shouldRefuseAPeerOfAnotherClusterBeforeDecodingAFrame() throws Exception {
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        try (LinkTransport a = start(WorkerId.random(), OTHER_KEY, new LinkTransportTest.Recorder());
             LinkTransport b = start(idB, KEY, rb)) {
            CompletableFuture<Link> dial = a.dial(b.address(), idB);
            assertThatThrownBy(() -> dial.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(Exception.class);
            assertThat(rb.up).as("no session reached the acceptor").isEmpty();
            assertThat(rb.data).isEmpty();
        }
    }

    @Test
    void shouldRefusePlaintextEitherWay() throws Exception {
        WorkerId idB = WorkerId.random();
        WorkerId idC = WorkerId.random();
        LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        LinkTransportTest.Recorder rc = new LinkTransportTest.Recorder();
        try (LinkTransport plain = start(WorkerId.random(), null, new LinkTransportTest.Recorder());
             LinkTransport sealed = start(WorkerId.random(), KEY, new LinkTransportTest.Recorder());
             LinkTransport b = start(idB, KEY, rb);
             LinkTransport c = start(idC, null, rc)) {
            CompletableFuture<Link> plainToSealed = plain.dial(b.address(), idB);
            CompletableFuture<Link> sealedToPlain = sealed.dial(c.address(), idC);
            assertThatThrownBy(() -> plainToSealed.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(Exception.class);
            assertThatThrownBy(() -> sealedToPlain.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(Exception.class);
            assertThat(rb.up).isEmpty();
            assertThat(rc.up).isEmpty();
        }
    }
}
