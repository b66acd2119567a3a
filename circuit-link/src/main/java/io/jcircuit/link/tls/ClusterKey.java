package io.jcircuit.link.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * The cluster key: a self-signed CA certificate and its private key, kept together in one PEM file
 * that {@code circuit keygen} writes and every runtime of the cluster reads (DESIGN §4).
 *
 * <p>Why a CA, and why in one file: to a link, the only identity that matters is membership of the
 * cluster. Every runtime {@linkplain #issue issues} itself a fresh certificate from this key when it
 * starts, so no per-machine certificate is ever made, copied or renewed, and no runtime's private key
 * touches a disk. The price is that whoever holds the file can mint members, and members run code on
 * the cluster: the file is as secret as a password to every machine, and {@link #writeTo} makes it
 * readable by its owner only.
 *
 * <p>The file holds a comment, a {@code CERTIFICATE} block and a PKCS#8 {@code PRIVATE KEY} block,
 * unencrypted. Keys are EC P-256; certificates are signed with SHA256withECDSA.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class ClusterKey {

    /** The usual name of a cluster key file in a state directory: where {@code circuit keygen} writes by default. */
    public static final String FILE_NAME = "cluster.key";
    /** How long a new cluster key stays valid. Replacing it means handing a new file to every machine. */
    public static final Duration CA_VALIDITY = Duration.ofDays(10 * 365);
    /** How long an issued certificate stays valid; a runtime issues a new one each time it starts. */
    public static final Duration LEAF_VALIDITY = Duration.ofDays(365);
    private static final String CN_PREFIX = "jcircuit cluster ";

    private final X509Certificate certificate;
    private final PrivateKey privateKey;
    private final String fingerprint;
    private final SecureRandom random = new SecureRandom();

    private ClusterKey(X509Certificate certificate, PrivateKey privateKey) {
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.fingerprint = Certificates.fingerprint(certificate);
    }

    /** A new cluster key with a random cluster id in its CN, valid from now for {@link #CA_VALIDITY}. */
    public static ClusterKey generate() {
        SecureRandom random = new SecureRandom();
        KeyPair pair = Certificates.newKeyPair(random);
        byte[] id = new byte[8];
        random.nextBytes(id);
        X509Certificate ca = Certificates.selfSignedCa(pair, CN_PREFIX + HexFormat.of().formatHex(id),
            Instant.now(), CA_VALIDITY, random);
        return new ClusterKey(ca, pair.getPrivate());
    }

    /**
     * Reads a cluster key file and checks it: exactly one certificate and one private key, an EC key
     * that belongs to the certificate, a self-signed CA certificate that is valid now.
     *
     * @throws ClusterKeyException naming {@code file} and the problem: it is missing or unreadable,
     *                             group or others have access to it (POSIX file systems only; the
     *                             message says {@code chmod 600}), it is not PEM, lacks the
     *                             certificate or the key, or they do not fit
     */
    public static ClusterKey load(Path file) {
        PemFile.Blocks blocks = PemFile.parse(file, KeyFile.read(file));
        if (blocks.certificates().isEmpty()) {
            throw problem(file, "holds no certificate; a cluster key file holds a CERTIFICATE block and a "
                + "PRIVATE KEY block, as 'circuit keygen' writes them");
        }
        if (blocks.certificates().size() > 1) {
            throw problem(file, "holds " + blocks.certificates().size()
                + " certificates; a cluster key file holds exactly one, the cluster's CA certificate");
        }
        if (blocks.keys().isEmpty()) {
            throw problem(file, "holds a certificate but no private key, and without it no runtime can "
                + "issue its own certificate; use the file that 'circuit keygen' wrote");
        }
        if (blocks.keys().size() > 1) {
            throw problem(file, "holds " + blocks.keys().size() + " private keys; a cluster key file holds exactly one");
        }
        X509Certificate cert;
        PrivateKey key;
        try {
            cert = new JcaX509CertificateConverter().getCertificate(blocks.certificates().getFirst());
            key = privateKey(blocks.keys().getFirst());
        } catch (GeneralSecurityException | PEMException e) {
            throw new ClusterKeyException(file, "cluster key file " + file + " holds a certificate or key that "
                + "cannot be decoded: " + e.getMessage(), e);
        }
        checkPair(file, cert, key);
        checkCa(file, cert);
        return new ClusterKey(cert, key);
    }

    /** The same as {@link #writeTo(Path, boolean) writeTo(file, false)}: an existing file is left alone. */
    public void writeTo(Path file) {
        writeTo(file, false);
    }

    /**
     * Writes this key to {@code file}, readable and writable by its owner only ({@code rw-------})
     * where the file system has POSIX permissions. Elsewhere (Windows) the file gets its directory's
     * default access rights, which the caller must restrict. The parent directory must exist.
     *
     * <p>A new file is created exclusively, so an existing one is never touched unless
     * {@code overwrite} is true. Then the key is written beside it and moved over it in one step, so
     * the file holds either the old key or the new one, never a mix.
     *
     * @throws ClusterKeyException when the file exists and {@code overwrite} is false, or the write fails
     */
    public void writeTo(Path file, boolean overwrite) {
        byte[] pem = PemFile.encode(certificate, privateKey, comment()).getBytes(StandardCharsets.US_ASCII);
        try {
            if (overwrite) {
                KeyFile.replace(file, pem);
            } else {
                KeyFile.create(file, pem);
            }
        } catch (FileAlreadyExistsException e) {
            throw new ClusterKeyException(file, "cluster key file " + file + " already exists and was left as it is", e);
        } catch (IOException e) {
            throw new ClusterKeyException(file, "cannot write cluster key file " + file + ": " + e, e);
        }
    }

    /**
     * Issues a fresh identity: a new EC P-256 key pair and a certificate for it with CN
     * {@code subjectName}, signed by this key, valid from an hour ago for {@link #LEAF_VALIDITY} (never
     * beyond this key's own end), for both TLS client and server use, with a random serial. Nothing is
     * written anywhere: a runtime calls this at start and keeps the result in memory.
     *
     * @param subjectName what the certificate names, such as the runtime's worker id; 1 to 64 characters
     * @throws IllegalArgumentException when {@code subjectName} is blank or longer than 64 characters
     */
    public Identity issue(String subjectName) {
        if (subjectName == null || subjectName.isBlank() || subjectName.length() > Certificates.MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("subjectName must be 1 to " + Certificates.MAX_NAME_LENGTH
                + " characters and not blank: '" + subjectName + "'");
        }
        KeyPair pair = Certificates.newKeyPair(random);
        X509Certificate leaf = Certificates.leaf(subjectName, pair.getPublic(), certificate, privateKey,
            Instant.now(), LEAF_VALIDITY, random);
        return new Identity(pair.getPrivate(), leaf, certificate);
    }

    /**
     * Signs {@code parts}, in order, with the cluster's private key (SHA-256 with ECDSA): what every
     * holder of the key can make and check, and nobody else. Runtimes sign the values they put in the
     * durable store, which lives in ZooKeeper, where anyone who can reach it can write.
     */
    public byte[] sign(byte[]... parts) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(privateKey, random);
            for (byte[] p : parts) {
                s.update(p);
            }
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the cluster key: " + e.getMessage(), e);
        }
    }

    /** Whether {@code signature} is {@link #sign}'s over {@code parts} with this cluster key. */
    public boolean verify(byte[] signature, byte[]... parts) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(certificate.getPublicKey());
            for (byte[] p : parts) {
                s.update(p);
            }
            return s.verify(signature);
        } catch (java.security.SignatureException malformed) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot check a signature with the cluster key: " + e.getMessage(), e);
        }
    }

    /** The cluster's CA certificate, which every runtime trusts and nothing else. */
    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * The first 16 hex digits of the SHA-256 of the CA certificate: enough to tell two cluster keys
     * apart in logs and docs, and safe to show, since it says nothing about the private key.
     */
    public String fingerprint() {
        return fingerprint;
    }

    /** Shows the CN and fingerprint, never the private key. */
    @Override
    public String toString() {
        return "ClusterKey[" + Certificates.commonName(certificate) + ", fingerprint " + fingerprint + "]";
    }

    private List<String> comment() {
        return List.of(
            "JCircuit cluster key: " + Certificates.commonName(certificate) + ", fingerprint " + fingerprint + ".",
            "Whoever holds this file can join the cluster and run code on it. Keep it private.",
            "");
    }

    private static PrivateKey privateKey(PrivateKeyInfo info) throws PEMException {
        return new JcaPEMKeyConverter().getPrivateKey(info);
    }

    /** Signs a random challenge with the key and checks it with the certificate's public key. */
    private static void checkPair(Path file, X509Certificate cert, PrivateKey key) {
        if (!"EC".equals(key.getAlgorithm()) || !"EC".equals(cert.getPublicKey().getAlgorithm())) {
            throw problem(file, "holds a " + key.getAlgorithm() + " key and a " + cert.getPublicKey().getAlgorithm()
                + " certificate; a cluster key is EC P-256, as 'circuit keygen' makes it");
        }
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        boolean fits;
        try {
            Signature s = Signature.getInstance(Certificates.SIGNATURE);
            s.initSign(key);
            s.update(challenge);
            byte[] signature = s.sign();
            s.initVerify(cert.getPublicKey());
            s.update(challenge);
            fits = s.verify(signature);
        } catch (GeneralSecurityException e) {
            fits = false;
        }
        if (!fits) {
            throw problem(file, "holds a private key that does not belong to its certificate; the file was "
                + "pieced together from two keys. Use the file that 'circuit keygen' wrote");
        }
    }

    private static void checkCa(Path file, X509Certificate cert) {
        try {
            cert.verify(cert.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw problem(file, "holds a certificate that is not self-signed (issued by "
                + cert.getIssuerX500Principal() + "); a cluster key is its own CA");
        }
        boolean[] usage = cert.getKeyUsage();
        if (cert.getBasicConstraints() < 0 || (usage != null && !usage[5])) {
            throw problem(file, "holds a certificate that is not a CA certificate (" + cert.getSubjectX500Principal()
                + "), so it cannot sign runtime certificates; is this a runtime's certificate?");
        }
        try {
            cert.checkValidity();
        } catch (CertificateExpiredException e) {
            throw problem(file, "expired on " + cert.getNotAfter().toInstant() + "; make a new one with "
                + "'circuit keygen' and give it to every machine of the cluster");
        } catch (CertificateNotYetValidException e) {
            throw problem(file, "is not valid before " + cert.getNotBefore().toInstant() + "; is this machine's "
                + "clock right?");
        }
    }

    static ClusterKeyException problem(Path file, String problem) {
        return new ClusterKeyException(file, "cluster key file " + file + " " + problem);
    }
}
