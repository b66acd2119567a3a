package io.jcircuit.link;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;

import static org.assertj.core.api.Assertions.assertThat;

/** What a refused TLS handshake is said to mean. */
class TlsRefusalTest {

    /** A client that shows no certificate has none of any key (a probe's was told "different cluster keys"). */
    @Test
    void aPeerWithoutACertificateIsNotSaidToHaveAnotherKey() {
        assertThat(TlsRefusal.describe(new SSLHandshakeException("Empty client certificate chain"), false))
            .contains("showed no certificate").doesNotContain("different cluster keys");
        assertThat(TlsRefusal.describe(new SSLHandshakeException("PKIX path building failed"), false))
            .contains("different cluster keys");
    }
}
