package io.jcircuit.link.tls;

import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;

/**
 * Makes the cluster's CA certificate and the leaf certificates it signs, with BouncyCastle's builders
 * over the JDK's own crypto providers. Nothing registers BouncyCastle as a JCA provider: that would be
 * process-wide state, and the JDK's SunEC does everything needed here.
 */
final class Certificates {

    /** Curve of every key: NIST P-256, which every TLS 1.3 implementation supports. */
    static final String CURVE = "secp256r1";
    static final String SIGNATURE = "SHA256withECDSA";
    /** Certificates start this long before they are made, so that peers with clocks slightly behind accept them. */
    static final Duration BACKDATE = Duration.ofHours(1);
    /** CN is at most 64 characters (RFC 5280, ub-common-name). */
    static final int MAX_NAME_LENGTH = 64;

    private Certificates() {
    }

    static KeyPair newKeyPair(SecureRandom random) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(CURVE), random);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make EC " + CURVE + " keys: " + e, e);
        }
    }

    /** A self-signed CA certificate that may sign leaf certificates only (path length 0). */
    static X509Certificate selfSignedCa(KeyPair pair, String commonName, Instant now, Duration validity,
                                        SecureRandom random) {
        X500Name subject = name(commonName);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(random),
            Date.from(now.minus(BACKDATE)), Date.from(now.plus(validity)), subject, pair.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot make the cluster CA certificate: " + e, e);
        }
        return sign(b, pair.getPrivate(), commonName);
    }

    /**
     * A leaf certificate for {@code publicKey}, signed by the CA, usable by either end of a TLS
     * connection. It is valid from {@link #BACKDATE} before {@code now} for {@code validity}, but never
     * beyond the CA's own end.
     */
    static X509Certificate leaf(String commonName, PublicKey publicKey, X509Certificate ca, PrivateKey caKey,
                                Instant now, Duration validity, SecureRandom random) {
        Instant end = now.plus(validity);
        if (end.isAfter(ca.getNotAfter().toInstant())) {
            end = ca.getNotAfter().toInstant();
        }
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(random),
            Date.from(now.minus(BACKDATE)), Date.from(end), name(commonName), publicKey);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a certificate for '" + commonName + "': " + e, e);
        }
        return sign(b, caKey, commonName);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer, String commonName) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the certificate for '" + commonName + "': " + e, e);
        }
    }

    /** A positive serial of up to 128 bits; random, so that no two certificates of a CA share one. */
    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
    }

    /** The subject's CN, or the whole subject name when it has none. */
    static String commonName(X509Certificate cert) {
        X500Name subject = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
        RDN[] cn = subject.getRDNs(BCStyle.CN);
        return cn.length == 0 ? subject.toString() : IETFUtils.valueToString(cn[0].getFirst().getValue());
    }

    /** SHA-256 of the certificate's DER encoding, in lower-case hex, cut to its first 16 digits. */
    static String fingerprint(X509Certificate cert) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.of().formatHex(sha).substring(0, 16);
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode certificate " + cert.getSubjectX500Principal() + ": " + e, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no SHA-256: " + e, e);
        }
    }
}
