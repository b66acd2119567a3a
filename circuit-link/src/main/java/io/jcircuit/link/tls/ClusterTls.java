package io.jcircuit.link.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;

/**
 * TLS for the links of one runtime: makes the {@link SslHandler} that authenticates each connection,
 * both ways, against the cluster key.
 *
 * <p>The policy, and why:
 * <ul>
 *   <li>TLS 1.3 only ({@value #PROTOCOL}), on the JDK's own provider (no netty-tcnative), so there is
 *       one implementation and no older protocol to fall back to.</li>
 *   <li>Both ends present their {@link Identity}'s certificate, and the server requires the client's
 *       ({@link ClientAuth#REQUIRE}): a dialer is as much a stranger as the one it dials.</li>
 *   <li>The only trusted certificate is the cluster's CA; the JDK's default trust store plays no part.</li>
 *   <li>No host name verification. Runtimes move between machines and are dialed by whatever address
 *       the namespace advertises, and their certificates name workers, not hosts. A peer is who it must
 *       be when it holds a certificate issued from the cluster key: the identity that counts is
 *       membership of the cluster. Which worker a peer is, the link handshake says; it can be checked
 *       against {@link #peerName(SslHandler)}.</li>
 * </ul>
 *
 * <p>Immutable and safe to share between threads: one instance serves every connection of a runtime.
 */
public final class ClusterTls implements io.jcircuit.link.LinkTls {

    /** The one protocol spoken. */
    public static final String PROTOCOL = "TLSv1.3";
    /** How long a handshake may take by default before the connection is closed. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    /** Which end of the TCP connection a handler serves. */
    public enum Mode {
        /** The end that dialed: it speaks first and checks the server's certificate. */
        CLIENT,
        /** The end that accepted: it requires and checks the client's certificate. */
        SERVER
    }

    private final Identity identity;
    private final SslContext server;
    private final SslContext client;
    private final Duration handshakeTimeout;

    private ClusterTls(Identity identity, Duration handshakeTimeout) {
        this.identity = identity;
        this.handshakeTimeout = handshakeTimeout;
        TrustManagerFactory trust = trustOnly(identity.clusterCertificate());
        try {
            this.server = SslContextBuilder.forServer(identity.privateKey(), identity.certificate())
                .sslProvider(SslProvider.JDK)
                .protocols(PROTOCOL)
                .clientAuth(ClientAuth.REQUIRE)
                .trustManager(trust)
                .build();
            this.client = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .protocols(PROTOCOL)
                .keyManager(identity.privateKey(), identity.certificate())
                .trustManager(trust)
                // Netty 4.2 turns on HTTPS host name checks for clients by default; see the class comment.
                .endpointIdentificationAlgorithm(null)
                .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS for " + identity + ": " + e.getMessage(), e);
        }
    }

    /** TLS for {@code identity}, with handshakes bounded by {@link #DEFAULT_HANDSHAKE_TIMEOUT}. */
    public static ClusterTls of(Identity identity) {
        return of(identity, DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /**
     * TLS for {@code identity}. A handshake that takes longer than {@code handshakeTimeout} fails and
     * closes its connection, so a peer that connects and says nothing cannot hold a connection open.
     *
     * @throws IllegalArgumentException when {@code handshakeTimeout} is not positive
     * @throws IllegalStateException    when the JDK cannot set up TLS 1.3 with this identity
     */
    public static ClusterTls of(Identity identity, Duration handshakeTimeout) {
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive: " + handshakeTimeout);
        }
        return new ClusterTls(identity, handshakeTimeout);
    }

    /**
     * A new handler for one connection. It must be the <b>first</b> handler of the channel's pipeline
     * ({@code pipeline.addFirst(...)}), so that every byte the peer sends is decrypted by it, and nothing
     * is decoded before the peer is authenticated: application data reaches the next handler only after
     * the handshake has verified the peer's certificate.
     *
     * <p>Writes made before the handshake completes (a link handshake sent from {@code channelActive})
     * are held by the handler and sent, encrypted, once it completes. A handshake that fails or times
     * out closes the channel; its outcome is {@link SslHandler#handshakeFuture()}, and the pipeline
     * also sees an {@link io.netty.handler.ssl.SslHandshakeCompletionEvent}.
     *
     * <p><b>Note:</b> in TLS 1.3 a client's handshake completes before the server has checked the
     * client's certificate. A client the server rejects learns it afterwards, when the server's alert
     * closes the connection.
     *
     * <p>Call from any thread, usually from a {@code ChannelInitializer}.
     */
    public SslHandler newHandler(Channel channel, Mode mode) {
        SslHandler h = (mode == Mode.CLIENT ? client : server).newHandler(channel.alloc());
        h.setHandshakeTimeoutMillis(handshakeTimeout.toMillis());
        return h;
    }

    @Override
    public SslHandler newHandler(Channel channel, boolean client) {
        return newHandler(channel, client ? Mode.CLIENT : Mode.SERVER);
    }

    @Override
    public String authenticatedName(SslHandler handler) {
        return peerName(handler);
    }

    @Override
    public String describe() {
        return "cluster " + identity.clusterFingerprint();
    }

    /** The identity this runtime presents. */
    public Identity identity() {
        return identity;
    }

    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * The certificate the peer presented, which chains to the cluster's CA.
     *
     * @throws IllegalStateException when the handshake has not completed successfully
     */
    public static X509Certificate peerCertificate(SslHandler handler) {
        if (!handler.handshakeFuture().isSuccess()) {
            throw new IllegalStateException("the TLS handshake has not completed"
                + (handler.handshakeFuture().cause() == null ? "" : ": " + handler.handshakeFuture().cause()));
        }
        try {
            Certificate[] chain = handler.engine().getSession().getPeerCertificates();
            return (X509Certificate) chain[0];
        } catch (SSLPeerUnverifiedException e) {
            throw new IllegalStateException("the TLS peer presented no certificate", e);
        }
    }

    /** The CN of the peer's certificate: the name it was issued for, such as its worker id. */
    public static String peerName(SslHandler handler) {
        return Certificates.commonName(peerCertificate(handler));
    }

    /** A trust manager that trusts {@code ca} and nothing else. */
    private static TrustManagerFactory trustOnly(X509Certificate ca) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("jcircuit-cluster-ca", ca);
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(store);
            return f;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a trust store for the cluster CA " + ca.getSubjectX500Principal()
                + ": " + e, e);
        }
    }
}
