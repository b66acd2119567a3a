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
            LinkTransportTest.busy(ab, rb, false);
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

    /**
     * A TLS record changed on the way (one flipped bit, as anyone on the path can send) fails the
     * connection's integrity check, not the peer's protocol: the connection is dropped and the session
     * resumes on a new one, as after a reset, with every frame delivered once. Before, both sides took
     * it for a protocol error and ended the session, and with it every reference across it.
     */
    @Test
    void shouldResumeTheSessionWhenARecordIsChangedOnTheWay() throws Exception {
        WorkerId idA = WorkerId.random();
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder ra = new LinkTransportTest.Recorder();
        LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        try (LinkTransport a = start(idA, KEY, ra); LinkTransport b = start(idB, KEY, rb);
             Relay path = new Relay("127.0.0.1", 0, b.address().port())) {
            Link ab = a.dial(new io.jcircuit.Address("127.0.0.1", path.port()), idB).get(5, TimeUnit.SECONDS);
            ab.send(text(ab, "before"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("before");

            path.flipNext();
            ab.send(text(ab, "changed on the way"));
            assertThat(rb.data.poll(10, TimeUnit.SECONDS)).isEqualTo("changed on the way");
            assertThat(path.flipped()).isTrue();
            ab.send(text(ab, "after"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("after");
            assertThat(rb.data).isEmpty();
            assertThat(ra.down).isEmpty();
            assertThat(rb.down).isEmpty();
            assertThat(ab.outages()).isEqualTo(1);
        }
    }

    /**
     * A session whose redials reach a runtime on this machine that refuses their TLS handshake rides out
     * the outage up to its limit: a refused handshake is not the kernel refusing the connection, and says
     * nothing of whether the peer runs. Here another cluster's runtime answers at the address; a peer
     * whose certificate expired while the link was up, or whose clock jumped, answers so too. Before, the
     * word "refused" in the handshake's failure ended the session at once, as "its runtime has stopped".
     * At the limit, the session's end says why the redials failed, not only why the connection was lost
     * (before, that was all it said, the redials' failures being logged at debug level).
     */
    @Test
    void shouldRideOutRedialsThatATlsHandshakeRefusesAndSayWhyAtTheOutageLimit() throws Exception {
        WorkerId idA = WorkerId.random();
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder ra = new LinkTransportTest.Recorder();
        LinkConfig config = LinkConfig.builder().heartbeatIntervalMs(100).silenceLimitMs(500).redialMinMs(5)
            .redialMaxMs(100).outageLimitMs(1_000).tls(ClusterTls.of(KEY.issue(idA.toString()))).build();
        try (LinkTransport a = LinkTransport.start(config, idA, ra);
             // b is known by 127.0.0.2 and its port, where a relay listens that a redials too
             LinkTransport b = LinkTransport.start(LinkConfig.builder().advertisedHost("127.0.0.2")
                 .tls(ClusterTls.of(KEY.issue(idB.toString()))).build(), idB, new LinkTransportTest.Recorder());
             LinkTransport stranger = start(idB, OTHER_KEY, new LinkTransportTest.Recorder());
             Relay path = new Relay("127.0.0.2", b.address().port(), b.address().port())) {
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            path.retarget(stranger.address().port());
            b.closeAbruptlyForTest();

            String reason = ra.down.poll(10, TimeUnit.SECONDS);
            assertThat(reason).startsWith("no connection for 1000 ms (the outage limit)")
                .contains("; the last redial failed: handshake with ")
                .contains("the two sides run with different cluster keys");
            assertThat(ab.outageLimitPassed()).isTrue();
        }
    }

    /**
     * A TCP relay on loopback to a port it can be told to change (for the connections it accepts after),
     * and that, once asked, flips the last bit of the next bytes it relays from the dialer: the end of a
     * TLS record's authentication tag.
     */
    private static final class Relay implements AutoCloseable {
        private final java.net.ServerSocket server;
        private volatile int target;
        private final java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.atomic.AtomicBoolean flipped = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** Listens on {@code host}:{@code port} (0: any) and relays to {@code target} on 127.0.0.1. */
        Relay(String host, int port, int target) throws java.io.IOException {
            this.server = new java.net.ServerSocket(port, 50, java.net.InetAddress.getByName(host));
            this.target = target;
            Thread.ofPlatform().daemon().start(this::accept);
        }

        int port() {
            return server.getLocalPort();
        }

        void retarget(int port) {
            target = port;
        }

        void flipNext() {
            armed.set(true);
        }

        boolean flipped() {
            return flipped.get();
        }

        private void accept() {
            try {
                while (true) {
                    java.net.Socket in = server.accept();
                    java.net.Socket out = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), target);
                    sockets.add(in);
                    sockets.add(out);
                    Thread.ofPlatform().daemon().start(() -> pump(in, out, true));
                    Thread.ofPlatform().daemon().start(() -> pump(out, in, false));
                }
            } catch (java.io.IOException closed) {
                // closed
            }
        }

        private void pump(java.net.Socket from, java.net.Socket to, boolean fromDialer) {
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = from.getInputStream().read(buf)) >= 0; ) {
                    if (fromDialer && n > 0 && armed.compareAndSet(true, false)) {
                        buf[n - 1] ^= 1;
                        flipped.set(true);
                    }
                    to.getOutputStream().write(buf, 0, n);
                }
            } catch (java.io.IOException e) {
                // one side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (java.io.IOException ignored) {
                    // closing
                }
            }
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            for (java.net.Socket s : sockets) {
                s.close();
            }
        }
    }
}
