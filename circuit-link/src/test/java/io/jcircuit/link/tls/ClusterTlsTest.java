package io.jcircuit.link.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.X509ExtendedKeyManager;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real TLS connections on loopback: a Netty server with {@link ClusterTls}'s handler first in its
 * pipeline and an echo after it, and clients that belong to the cluster, or do not.
 */
class ClusterTlsTest {

    private static final byte[] PAYLOAD = "a frame's worth of bytes".getBytes(StandardCharsets.UTF_8);

    /** One connection the server accepted: its channel and its TLS handler. */
    record Accepted(Channel channel, SslHandler tls) {
    }

    /** One client connection: its channel and its TLS handler, if it has one. */
    record Connected(Channel channel, SslHandler tls) {
    }

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final BlockingQueue<Accepted> accepted = new LinkedBlockingQueue<>();
    /** How often the server's echo handler was reached, over all connections. */
    private final AtomicInteger echoReads = new AtomicInteger();
    private final ClusterKey key = ClusterKey.generate();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void shouldHandshakeTls13BothWaysAndCarryBytes() throws Exception {
        Identity serverId = key.issue("R00000000000000a1");
        Identity clientId = key.issue("R00000000000000b2");
        int port = startServer(ClusterTls.of(serverId));
        Collect got = new Collect();

        ClusterTls clientTls = ClusterTls.of(clientId);
        Connected c = connect(port, ch -> clientTls.newHandler(ch, ClusterTls.Mode.CLIENT), got);
        SslHandler tls = c.tls();
        Channel client = c.channel();
        assertSucceeds(tls.handshakeFuture());
        client.writeAndFlush(Unpooled.wrappedBuffer(PAYLOAD));

        await().atMost(Duration.ofSeconds(5)).until(() -> got.bytes().length == PAYLOAD.length);
        assertThat(got.bytes()).isEqualTo(PAYLOAD);
        assertThat(tls.engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
        X509Certificate serverCert = ClusterTls.peerCertificate(tls);
        serverCert.verify(key.certificate().getPublicKey());
        assertThat(serverCert.getIssuerX500Principal()).isEqualTo(key.certificate().getSubjectX500Principal());
        assertThat(ClusterTls.peerName(tls)).isEqualTo("R00000000000000a1");

        Accepted a = accepted.poll(5, TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertSucceeds(a.tls().handshakeFuture());
        assertThat(a.channel().pipeline().first()).isSameAs(a.tls());
        assertThat(a.tls().engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
        assertThat(ClusterTls.peerCertificate(a.tls())).isEqualTo(clientId.certificate());
        assertThat(ClusterTls.peerName(a.tls())).isEqualTo("R00000000000000b2");
        assertThat(echoReads.get()).isPositive();
    }

    @Test
    void shouldRejectAClientWhoseCertificateComesFromAnotherClusterKey() throws Exception {
        int port = startServer(ClusterTls.of(key.issue("server")));
        Identity intruder = ClusterKey.generate().issue("intruder");
        // The intruder trusts any server, so that the rejection seen is the server's, and shows its
        // certificate although the server asks for one issued by the cluster's CA.
        SslContext ctx = intruderContext().keyManager(new AlwaysPresent(intruder)).build();

        assertRejectedAfterWriting(port, ctx).hasMessageContaining("PKIX path");
    }

    @Test
    void shouldRejectAClientWithoutACertificate() throws Exception {
        int port = startServer(ClusterTls.of(key.issue("server")));

        assertRejectedAfterWriting(port, intruderContext().build()).hasMessageContaining("certificate_required");
    }

    @Test
    void shouldDecodeNothingAPlaintextClientSends() throws Exception {
        int port = startServer(ClusterTls.of(key.issue("server")));
        Collect got = new Collect();

        Channel client = connect(port, null, got).channel();
        client.writeAndFlush(Unpooled.wrappedBuffer(PAYLOAD));

        Accepted a = accepted.poll(5, TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertFails(a.tls().handshakeFuture()).isInstanceOf(NotSslRecordException.class);
        assertThat(a.channel().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(client.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(echoReads.get()).isZero();
    }

    @Test
    void shouldRejectAServerFromAnotherCluster() throws Exception {
        int port = startServer(ClusterTls.of(ClusterKey.generate().issue("impostor")));
        Collect got = new Collect();

        ClusterTls clientTls = ClusterTls.of(key.issue("client"));
        Connected c = connect(port, ch -> clientTls.newHandler(ch, ClusterTls.Mode.CLIENT), got);
        Channel client = c.channel();

        assertFails(c.tls().handshakeFuture()).isInstanceOf(SSLHandshakeException.class);
        assertThat(client.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(echoReads.get()).isZero();
    }

    @Test
    void shouldCloseAConnectionThatNeverCompletesItsHandshake() throws Exception {
        int port = startServer(ClusterTls.of(key.issue("server"), Duration.ofMillis(300)));
        Collect got = new Collect();

        Channel silent = connect(port, null, got).channel();

        Accepted a = accepted.poll(5, TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertFails(a.tls().handshakeFuture()).isInstanceOf(SslHandshakeTimeoutException.class);
        assertThat(silent.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(echoReads.get()).isZero();
    }

    /**
     * Connects with {@code ctx}, writes once its own handshake is over (which in TLS 1.3 may be
     * before the server has judged its certificate), and checks that the server failed its handshake,
     * closed the connection, and never let a byte through to the echo.
     *
     * @return an assertion on why the server's handshake failed
     */
    private AbstractThrowableAssert<?, ? extends Throwable> assertRejectedAfterWriting(int port, SslContext ctx)
        throws Exception {
        Collect got = new Collect();
        Connected c = connect(port, ch -> ctx.newHandler(ch.alloc()), got);
        Channel client = c.channel();
        c.tls().handshakeFuture().await(5, TimeUnit.SECONDS);
        client.writeAndFlush(Unpooled.wrappedBuffer(PAYLOAD));

        Accepted a = accepted.poll(5, TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertFails(a.tls().handshakeFuture()).isInstanceOf(SSLHandshakeException.class);
        assertThat(a.channel().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(client.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(echoReads.get()).isZero();
        assertThat(got.bytes()).isEmpty();
        return assertThat(a.tls().handshakeFuture().cause());
    }

    /** A TLS 1.3 client that trusts any server and shows no certificate unless given one. */
    private static SslContextBuilder intruderContext() {
        return SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(ClusterTls.PROTOCOL)
            .trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
    }

    /** Binds loopback, port 0: TLS first in each connection's pipeline, then an echo. */
    private int startServer(ClusterTls tls) {
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    SslHandler h = tls.newHandler(ch, ClusterTls.Mode.SERVER);
                    ch.pipeline().addLast("tls", h).addLast("echo", new Echo());
                    accepted.add(new Accepted(ch, h));
                }
            })
            .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /**
     * Connects to loopback with the handler {@code tls} makes (none when it is null) first in the
     * pipeline and {@code got} after it.
     */
    private Connected connect(int port, Function<Channel, SslHandler> tls, Collect got) {
        CompletableFuture<SslHandler> made = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
            .handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    if (tls != null) {
                        SslHandler h = tls.apply(ch);
                        ch.pipeline().addLast("tls", h);
                        made.complete(h);
                    }
                    ch.pipeline().addLast("collect", got);
                }
            })
            .connect("127.0.0.1", port).syncUninterruptibly().channel();
        return new Connected(ch, made.getNow(null));
    }

    private static void assertSucceeds(Future<?> f) throws InterruptedException {
        assertThat(f.await(5, TimeUnit.SECONDS)).as("completed within 5 s").isTrue();
        assertThat(f.cause()).as("handshake failure").isNull();
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertFails(Future<?> f)
        throws InterruptedException {
        assertThat(f.await(5, TimeUnit.SECONDS)).as("completed within 5 s").isTrue();
        assertThat(f.isSuccess()).as("succeeded").isFalse();
        return assertThat(f.cause());
    }

    /**
     * A client key manager that shows its certificate whatever the server asks for. The JDK's own
     * would send none when the server's list of acceptable CAs does not name its issuer.
     */
    private static final class AlwaysPresent extends X509ExtendedKeyManager {
        private static final String ALIAS = "intruder";
        private final Identity identity;

        AlwaysPresent(Identity identity) {
            this.identity = identity;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return ALIAS;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return ALIAS;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[] {identity.certificate()};
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return identity.privateKey();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }

    /** Echoes what reaches it, and counts that it was reached. */
    private final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            echoReads.incrementAndGet();
            ctx.writeAndFlush(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Collects the bytes a client receives. */
    @ChannelHandler.Sharable
    private static final class Collect extends ChannelInboundHandlerAdapter {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf b = (ByteBuf) msg;
                synchronized (bytes) {
                    b.readBytes(bytes, b.readableBytes());
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        byte[] bytes() {
            synchronized (bytes) {
                return bytes.toByteArray();
            }
        }
    }
}
