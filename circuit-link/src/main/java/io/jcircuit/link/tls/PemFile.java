package io.jcircuit.link.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The text of a cluster key file: a comment, a {@code CERTIFICATE} block and a PKCS#8
 * {@code PRIVATE KEY} block, which is what {@code openssl x509} and {@code openssl pkey} read too.
 */
final class PemFile {

    /** What a PEM text holds, unconverted. */
    record Blocks(List<X509CertificateHolder> certificates, List<PrivateKeyInfo> keys) {
    }

    private PemFile() {
    }

    /** The PEM text; {@code comment} lines go before the first block, where PEM readers skip them. */
    static String encode(X509Certificate cert, PrivateKey key, List<String> comment) {
        StringWriter text = new StringWriter();
        comment.forEach(line -> text.append(line).append('\n'));
        try (JcaPEMWriter w = new JcaPEMWriter(text)) {
            w.writeObject(cert);
            // JcaPEMWriter alone would write an EC key as SEC1 "EC PRIVATE KEY"; PKCS#8 is the portable form.
            w.writeObject(new JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the cluster key as PEM: " + e, e);
        }
        return text.toString();
    }

    /**
     * Every certificate and unencrypted private key in {@code text}, in order; both SEC1
     * ({@code EC PRIVATE KEY}) and PKCS#8 keys are read.
     *
     * @throws ClusterKeyException naming {@code file} when the text is not valid PEM or holds an
     *                             encrypted key
     */
    static Blocks parse(Path file, String text) {
        List<X509CertificateHolder> certs = new ArrayList<>();
        List<PrivateKeyInfo> keys = new ArrayList<>();
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                switch (o) {
                    case X509CertificateHolder c -> certs.add(c);
                    case PrivateKeyInfo k -> keys.add(k);
                    case PEMKeyPair kp -> keys.add(kp.getPrivateKeyInfo());
                    case PKCS8EncryptedPrivateKeyInfo e -> throw encrypted(file);
                    case PEMEncryptedKeyPair e -> throw encrypted(file);
                    default -> { } // other blocks, such as a PUBLIC KEY, are not ours to judge
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ClusterKeyException c) {
                throw c;
            }
            throw new ClusterKeyException(file, "cluster key file " + file + " is not valid PEM (" + e.getMessage()
                + "); it is damaged or not a cluster key file. Make a new key with 'circuit keygen'", e);
        }
        return new Blocks(certs, keys);
    }

    private static ClusterKeyException encrypted(Path file) {
        return new ClusterKeyException(file, "cluster key file " + file + " holds an encrypted private key; "
            + "JCircuit reads unencrypted PKCS#8 keys only and protects the file by its permissions");
    }
}
