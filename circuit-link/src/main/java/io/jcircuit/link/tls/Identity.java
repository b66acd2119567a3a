package io.jcircuit.link.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * What a runtime shows its peers: a private key, the certificate that the cluster key issued for it,
 * and the cluster's CA certificate, which is also the only certificate it trusts. Made by
 * {@link ClusterKey#issue} and held in memory only; a runtime makes a new one each time it starts.
 *
 * <p>The private key stays inside this package: only {@link ClusterTls} needs it, and
 * {@link #toString()} never shows it. Immutable and safe to share between threads.
 */
public final class Identity {

    private final PrivateKey privateKey;
    private final X509Certificate certificate;
    private final X509Certificate clusterCertificate;

    Identity(PrivateKey privateKey, X509Certificate certificate, X509Certificate clusterCertificate) {
        this.privateKey = privateKey;
        this.certificate = certificate;
        this.clusterCertificate = clusterCertificate;
    }

    /** The subject's CN: the name given to {@link ClusterKey#issue}. */
    public String name() {
        return Certificates.commonName(certificate);
    }

    /** This runtime's own certificate, signed by the cluster key. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The cluster's CA certificate: a peer is trusted when its certificate chains to this one. */
    public X509Certificate clusterCertificate() {
        return clusterCertificate;
    }

    /** The fingerprint of the cluster's CA certificate, as {@link ClusterKey#fingerprint()} gives it. */
    public String clusterFingerprint() {
        return Certificates.fingerprint(clusterCertificate);
    }

    PrivateKey privateKey() {
        return privateKey;
    }

    @Override
    public String toString() {
        return "Identity[" + name() + ", serial " + certificate.getSerialNumber().toString(16)
            + ", cluster " + clusterFingerprint() + "]";
    }
}
