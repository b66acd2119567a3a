package io.jcircuit.link.tls;

import io.jcircuit.WorkerId;
import io.jcircuit.link.HandshakeFailedException;
import io.jcircuit.link.Link;
import io.jcircuit.link.LinkConfig;
import io.jcircuit.link.LinkListener;
import io.jcircuit.link.LinkTransport;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a dialer is told when a link's TLS or link handshake refuses a certificate of its own cluster:
 * one that names another worker than its runtime claims to be, one that has expired, one not valid yet
 * (clocks more than an hour apart). Each must say so, not that the two sides hold different keys, which
 * sends the operator looking at the key files. Real transports on loopback.
 */
class LinkCertificateRefusalTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static KeyPair caPair;
    private static X509Certificate ca;
    private static ClusterKey key;

    @BeforeAll
    static void makeKey(@TempDir Path dir) throws Exception {
        caPair = Certificates.newKeyPair(RANDOM);
        ca = Certificates.selfSignedCa(caPair, "test cluster", Instant.now().minus(Duration.ofDays(800)),
            Duration.ofDays(3650), RANDOM);
        Path file = dir.resolve(ClusterKey.FILE_NAME);
        Files.writeString(file, PemFile.encode(ca, caPair.getPrivate(), List.of()));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        key = ClusterKey.load(file);
    }

    /** A certificate of this cluster for {@code id}, valid for a year from an hour before {@code issued}. */
    private static Identity issuedAt(WorkerId id, Instant issued) {
        KeyPair pair = Certificates.newKeyPair(RANDOM);
        X509Certificate leaf = Certificates.leaf(id.toString(), pair.getPublic(), ca, caPair.getPrivate(), issued,
            ClusterKey.LEAF_VALIDITY, RANDOM);
        return new Identity(pair.getPrivate(), leaf, ca);
    }

    private static final Instant YEARS_AGO = Instant.now().minus(Duration.ofDays(400));
    private static final Instant LATER_TODAY = Instant.now().plus(Duration.ofHours(3));

    private static LinkTransport start(WorkerId id, Identity identity) {
        return LinkTransport.start(LinkConfig.builder().tls(ClusterTls.of(identity)).build(), id, new Ignore());
    }

    private static CompletableFuture<Link> dial(WorkerId dialer, Identity dialerIdentity, WorkerId acceptor,
                                                Identity acceptorIdentity) {
        try (LinkTransport a = start(dialer, dialerIdentity); LinkTransport b = start(acceptor, acceptorIdentity)) {
            CompletableFuture<Link> dial = a.dial(b.address(), acceptor);
            dial.handle((l, e) -> null).join();
            return dial;
        }
    }

    @Test
    void aDialerIsToldThatTheAcceptorsCertificateNamesAnotherWorkerNotThatTheKeysDiffer() {
        WorkerId a = WorkerId.random();
        WorkerId b = WorkerId.random();
        CompletableFuture<Link> dial = dial(a, key.issue(a.toString()), b, key.issue("someone-else"));
        assertThatThrownBy(() -> dial.get(1, TimeUnit.SECONDS)).cause()
            .isInstanceOf(HandshakeFailedException.class)
            .hasMessageContaining("the peer's certificate names 'someone-else' but its handshake claims worker " + b)
            .hasMessageNotContaining("different cluster keys");
    }

    @Test
    void aDialerIsToldThatTheAcceptorsCertificateHasExpired() {
        WorkerId a = WorkerId.random();
        WorkerId b = WorkerId.random();
        CompletableFuture<Link> dial = dial(a, key.issue(a.toString()), b, issuedAt(b, YEARS_AGO));
        assertThatThrownBy(() -> dial.get(1, TimeUnit.SECONDS)).cause()
            .isInstanceOf(HandshakeFailedException.class)
            .hasMessageContaining("the peer's certificate is of this cluster's key but has expired")
            .hasMessageContaining("restart the peer");
    }

    @Test
    void aDialerIsToldThatTheAcceptorsCertificateIsNotValidYetByItsClock() {
        WorkerId a = WorkerId.random();
        WorkerId b = WorkerId.random();
        CompletableFuture<Link> dial = dial(a, key.issue(a.toString()), b, issuedAt(b, LATER_TODAY));
        assertThatThrownBy(() -> dial.get(1, TimeUnit.SECONDS)).cause()
            .isInstanceOf(HandshakeFailedException.class)
            .hasMessageContaining("is not valid yet")
            .hasMessageContaining("more than an hour behind the peer's");
    }

    @Test
    void aDialerWhoseOwnCertificateIsOutOfDateIsToldThatThePeerRefusedIt() {
        WorkerId a = WorkerId.random();
        WorkerId b = WorkerId.random();
        for (Instant issued : List.of(YEARS_AGO, LATER_TODAY)) {
            CompletableFuture<Link> dial = dial(a, issuedAt(a, issued), b, key.issue(b.toString()));
            assertThatThrownBy(() -> dial.get(1, TimeUnit.SECONDS)).cause()
                .isInstanceOf(HandshakeFailedException.class)
                .hasMessageContaining("its certificate is of this cluster's key, but it refused this runtime's")
                .hasMessageContaining("clocks are more than an hour apart");
        }
    }

    @Test
    void aDialerOfAnotherClusterIsStillToldThatTheKeysDiffer() {
        WorkerId a = WorkerId.random();
        WorkerId b = WorkerId.random();
        CompletableFuture<Link> dial = dial(a, ClusterKey.generate().issue(a.toString()), b, key.issue(b.toString()));
        assertThatThrownBy(() -> dial.get(1, TimeUnit.SECONDS)).cause()
            .isInstanceOf(HandshakeFailedException.class)
            .hasMessageContaining("the two sides run with different cluster keys");
    }

    private static final class Ignore implements LinkListener {
        @Override
        public void onLinkUp(Link link) {
        }

        @Override
        public void onData(Link link, ByteBuf frame) {
            frame.release();
        }

        @Override
        public void onLinkDown(Link link, String reason) {
        }
    }
}
