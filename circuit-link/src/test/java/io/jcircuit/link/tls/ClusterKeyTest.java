package io.jcircuit.link.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

class ClusterKeyTest {

    @TempDir
    Path dir;

    @Test
    void shouldReadBackTheKeyItWroteOwnerOnly() throws Exception {
        ClusterKey key = ClusterKey.generate();
        Path file = dir.resolve(ClusterKey.FILE_NAME);

        key.writeTo(file);
        ClusterKey loaded = ClusterKey.load(file);

        assertThat(loaded.fingerprint()).isEqualTo(key.fingerprint()).hasSize(16).matches("[0-9a-f]{16}");
        assertThat(loaded.certificate()).isEqualTo(key.certificate());
        assertThat(Files.readString(file)).contains("-----BEGIN CERTIFICATE-----", "-----BEGIN PRIVATE KEY-----")
            .contains(key.fingerprint()).doesNotContain("EC PRIVATE KEY");
        assumeThat(file.getFileSystem().supportedFileAttributeViews()).contains("posix");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void shouldMakeASelfSignedCaForOneP256Key() throws Exception {
        X509Certificate ca = ClusterKey.generate().certificate();

        ca.verify(ca.getPublicKey());
        assertThat(ca.getSubjectX500Principal().getName()).matches("CN=jcircuit cluster [0-9a-f]{16}");
        assertThat(ca.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(ca.getPublicKey().toString()).contains("secp256r1");
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(ca.getKeyUsage()[5]).as("keyCertSign").isTrue();
        assertThat(ClusterKey.generate().fingerprint()).isNotEqualTo(ClusterKey.generate().fingerprint());
    }

    @Test
    void shouldRefuseToOverwriteAnExistingFileUnlessAsked() throws Exception {
        Path file = dir.resolve("k.pem");
        ClusterKey first = ClusterKey.generate();
        first.writeTo(file);
        String before = Files.readString(file);
        ClusterKey second = ClusterKey.generate();

        assertThatThrownBy(() -> second.writeTo(file))
            .isInstanceOf(ClusterKeyException.class)
            .hasMessageContaining(file.toString()).hasMessageContaining("already exists");
        assertThat(Files.readString(file)).isEqualTo(before);

        second.writeTo(file, true);
        assertThat(ClusterKey.load(file).fingerprint()).isEqualTo(second.fingerprint());
        assertThat(Files.list(dir).toList()).containsExactly(file);
        assumeThat(file.getFileSystem().supportedFileAttributeViews()).contains("posix");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    void shouldNameAMissingFileAndSayHowToMakeOne() {
        Path file = dir.resolve("nope.key");

        assertThatThrownBy(() -> ClusterKey.load(file))
            .isInstanceOf(ClusterKeyException.class)
            .hasMessage("cluster key file " + file + " does not exist; make one with 'circuit keygen', "
                + "or give the path of the cluster's key")
            .extracting(e -> ((ClusterKeyException) e).file()).isEqualTo(file);
        assertThatThrownBy(() -> ClusterKey.load(dir)).hasMessageContaining(dir + " is a directory");
    }

    @Test
    void shouldRefuseAPipeWhichOnlyItsFirstReaderFindsTheKeyIn() throws Exception {
        Path fifo = dir.resolve("key.fifo");
        assumeThat(new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).inheritIO().start().waitFor()).isZero();
        // `circuit start --key <(pass show cluster-key)`: the host read it, its workers found nothing there
        Thread writer = Thread.ofPlatform().daemon().start(() -> {
            try {
                Files.writeString(fifo, Files.readString(writeKey()));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            assertThatThrownBy(() -> ClusterKey.load(fifo))
                .isInstanceOf(ClusterKeyException.class)
                .hasMessageStartingWith("cluster key file " + fifo + " is not a regular file (a pipe");
        } finally {
            // opened for reading and writing, a pipe never waits; the writer's open returns, and its key fits the pipe's buffer
            var unblock = Files.newByteChannel(fifo, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
            try {
                writer.join();
            } finally {
                unblock.close();
            }
        }
    }

    private Path writeKey() {
        Path file = dir.resolve("written-" + System.nanoTime() + ".key");
        ClusterKey.generate().writeTo(file);
        return file;
    }

    @Test
    void shouldRefuseAKeyFileThatGroupOrOthersCanUseAndSayHowToFixIt() throws Exception {
        assumeThat(dir.getFileSystem().supportedFileAttributeViews()).contains("posix");
        ClusterKey key = ClusterKey.generate();
        Path file = dir.resolve(ClusterKey.FILE_NAME);
        key.writeTo(file);

        for (String mode : List.of("rw-r--r--", "rw-r-----", "rw----r--", "rw--w----")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode)); // as cp, scp or a umask of 022 leave it
            assertThatThrownBy(() -> ClusterKey.load(file)).as(mode)
                .isInstanceOf(ClusterKeyException.class)
                .hasMessageStartingWith("cluster key file " + file + " has mode " + mode + ": group or others can use it")
                .hasMessageContaining("'chmod 600 " + file + "'")
                .extracting(e -> ((ClusterKeyException) e).file()).isEqualTo(file);
        }

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThat(ClusterKey.load(file).fingerprint()).isEqualTo(key.fingerprint());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        assertThat(ClusterKey.load(file).fingerprint()).isEqualTo(key.fingerprint());
    }

    @Test
    void shouldRejectAFileThatIsNotPem() throws IOException {
        Path garbage = writeOwnerOnly(dir.resolve("garbage"), "this is not a key\n\u0001\u0002 at all\n");
        Path broken = writeOwnerOnly(dir.resolve("broken"),
            "-----BEGIN CERTIFICATE-----\n%%%% not base64 %%%%\n-----END CERTIFICATE-----\n");

        assertThatThrownBy(() -> ClusterKey.load(garbage)).isInstanceOf(ClusterKeyException.class)
            .hasMessageStartingWith("cluster key file " + garbage + " holds no certificate");
        assertThatThrownBy(() -> ClusterKey.load(broken)).isInstanceOf(ClusterKeyException.class)
            .hasMessageStartingWith("cluster key file " + broken + " is not valid PEM");
    }

    @Test
    void shouldRejectACertificateWithoutItsKey() throws Exception {
        ClusterKey key = ClusterKey.generate();
        String pem = PemFile.encode(key.certificate(), key.issue("x").privateKey(), List.of());
        Path certOnly = writeOwnerOnly(dir.resolve("cert-only"), pem.substring(0, pem.indexOf("-----BEGIN PRIVATE KEY")));

        assertThatThrownBy(() -> ClusterKey.load(certOnly)).isInstanceOf(ClusterKeyException.class)
            .hasMessageStartingWith("cluster key file " + certOnly + " holds a certificate but no private key");
    }

    @Test
    void shouldRejectAKeyThatIsNotTheCertificates() throws Exception {
        ClusterKey key = ClusterKey.generate();
        Path mixed = writeOwnerOnly(dir.resolve("mixed"),
            PemFile.encode(key.certificate(), key.issue("x").privateKey(), List.of()));

        assertThatThrownBy(() -> ClusterKey.load(mixed)).isInstanceOf(ClusterKeyException.class)
            .hasMessageStartingWith("cluster key file " + mixed + " holds a private key that does not belong to its certificate");
    }

    @Test
    void shouldRejectARuntimeCertificateForACaOne() throws Exception {
        Identity leaf = ClusterKey.generate().issue("R0000000000000001");
        Path file = writeOwnerOnly(dir.resolve("leaf"), PemFile.encode(leaf.certificate(), leaf.privateKey(), List.of()));

        // A leaf is signed by the CA, not by itself; either way it must not pass as a cluster key.
        assertThatThrownBy(() -> ClusterKey.load(file)).isInstanceOf(ClusterKeyException.class)
            .hasMessageContaining(file.toString()).hasMessageContaining("not self-signed");
    }

    @Test
    void shouldRejectASelfSignedCertificateThatIsNoCa() throws Exception {
        KeyPair pair = Certificates.newKeyPair(new SecureRandom());
        X500Name name = new X500Name("CN=not a ca");
        Instant now = Instant.now();
        X509Certificate plain = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
            name, BigInteger.TWO, Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), name, pair.getPublic())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        Path file = writeOwnerOnly(dir.resolve("plain"), PemFile.encode(plain, pair.getPrivate(), List.of()));

        assertThatThrownBy(() -> ClusterKey.load(file)).isInstanceOf(ClusterKeyException.class)
            .hasMessageStartingWith("cluster key file " + file + " holds a certificate that is not a CA certificate");
    }

    @Test
    void shouldIssueFreshLeafCertificatesForBothEndsOfAConnection() throws Exception {
        ClusterKey key = ClusterKey.generate();
        Instant before = Instant.now();

        Identity a = key.issue("R00000000000000a1");
        Identity b = key.issue("R00000000000000a1");

        X509Certificate cert = a.certificate();
        cert.verify(key.certificate().getPublicKey());
        assertThat(a.name()).isEqualTo("R00000000000000a1");
        assertThat(cert.getIssuerX500Principal()).isEqualTo(key.certificate().getSubjectX500Principal());
        assertThat(cert.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(cert.getNotBefore().toInstant()).isBefore(before.minus(Duration.ofMinutes(59)));
        assertThat(cert.getNotAfter().toInstant()).isAfter(before.plus(Duration.ofDays(364)));
        assertThat(a.clusterCertificate()).isEqualTo(key.certificate());
        assertThat(a.clusterFingerprint()).isEqualTo(key.fingerprint());
        assertThat(b.certificate().getSerialNumber()).isNotEqualTo(cert.getSerialNumber());
        assertThat(b.certificate().getPublicKey()).isNotEqualTo(cert.getPublicKey());
        assertThat(a.toString()).contains("R00000000000000a1", key.fingerprint());
        assertThatThrownBy(() -> key.issue(" ")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("subjectName");
    }

    /** Writes {@code text} as a key file must be to be read at all: {@code rw-------} where there are POSIX permissions. */
    private static Path writeOwnerOnly(Path file, String text) throws IOException {
        Files.writeString(file, text);
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        return file;
    }
}
