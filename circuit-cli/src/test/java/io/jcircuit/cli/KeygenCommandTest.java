package io.jcircuit.cli;

import io.jcircuit.link.tls.ClusterKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code circuit keygen} writing real key files into a temporary directory. */
class KeygenCommandTest {

    @TempDir
    Path dir;

    @Test
    void shouldWriteAKeyFileAndPrintItsPathAndFingerprint() throws IOException {
        Path file = dir.resolve("my.key");

        CliRun.Result r = CliRun.run("keygen", "-o", file.toString());

        assertThat(r.code()).as(r.err()).isZero();
        ClusterKey key = ClusterKey.load(file);
        assertThat(r.out().lines()).containsExactly(
            "wrote cluster key " + file + " (fingerprint " + key.fingerprint() + ")",
            "warning: whoever holds this file can run code on the cluster. Copy it only to the machines "
                + "of the cluster, and never into a repository or an image.");
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        }
    }

    @Test
    void shouldWriteIntoTheStateDirectoryByDefault() {
        Path state = dir.resolve("state");

        CliRun.Result r = CliRun.run(Map.of("CIRCUIT_DIR", state.toString()), "keygen");

        assertThat(r.code()).as(r.err()).isZero();
        Path file = state.resolve(ClusterKey.FILE_NAME);
        assertThat(r.out()).contains("wrote cluster key " + file + " (fingerprint " + ClusterKey.load(file).fingerprint());

        Path named = dir.resolve("from-env.key");
        CliRun.Result viaEnv = CliRun.run(Map.of("CIRCUIT_DIR", state.toString(), "CIRCUIT_KEY", named.toString()), "keygen");
        assertThat(viaEnv.code()).as(viaEnv.err()).isZero();
        assertThat(viaEnv.out()).contains("wrote cluster key " + named);
        assertThat(named).isRegularFile();
    }

    @Test
    void shouldWriteIntoTheStateDirectoryThatDirNames() throws IOException {
        Path other = dir.resolve("other-state");

        // --dir as the other verbs take it, over the environment's state directory (before: no such option)
        CliRun.Result r = CliRun.run(Map.of("CIRCUIT_DIR", dir.resolve("state").toString()), "keygen", "--dir", other.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote cluster key " + other.resolve(ClusterKey.FILE_NAME));
        assertThat(other.resolve(ClusterKey.FILE_NAME)).isRegularFile();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(other)))
            .as("the directory it made for the key is its owner's only (before: 755)").isEqualTo("rwx------");
        CliRun.Result both = CliRun.run("keygen", "--dir", other.toString(), "-o", dir.resolve("x.key").toString());
        assertThat(both.code()).as("two options that exclude each other: the usage, as the README says").isEqualTo(2);
        assertThat(both.err()).contains("give -o FILE or --dir STATE_DIR, not both").contains("Usage: circuit keygen");
    }

    @Test
    void shouldReplaceAnExistingKeyOnlyWithForce() throws IOException {
        Path file = dir.resolve("cluster.key");
        assertThat(CliRun.run("keygen", "-o", file.toString()).code()).isZero();
        String before = Files.readString(file);

        CliRun.Result refused = CliRun.run("keygen", "-o", file.toString());

        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.out()).isEmpty();
        assertThat(refused.err().strip()).isEqualTo("circuit keygen: " + file + " already exists, and may be the key "
            + "a cluster runs with; nothing written. Use --force to replace it, or -o to write elsewhere");
        assertThat(Files.readString(file)).isEqualTo(before);

        CliRun.Result forced = CliRun.run("keygen", "-o", file.toString(), "--force");

        assertThat(forced.code()).as(forced.err()).isZero();
        assertThat(Files.readString(file)).isNotEqualTo(before);
        assertThat(forced.out()).contains("(fingerprint " + ClusterKey.load(file).fingerprint() + ")");
    }

    @Test
    void shouldRefuseADirectoryEvenWithForce() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("keys"));
        CliRun.Result r = CliRun.run("keygen", "-o", sub.toString(), "--force");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("circuit keygen: " + sub + " is a directory; nothing written.");
        assertThat(sub).isEmptyDirectory();
    }

    @Test
    void shouldRefuseAnOutputInADirectoryThatDoesNotExist() {
        Path file = dir.resolve("typo").resolve("my.key");
        CliRun.Result r = CliRun.run("keygen", "-o", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("circuit keygen: no directory " + file.getParent() + "; nothing written");
        assertThat(file.getParent()).doesNotExist();
    }

    @Test
    void shouldWarnInItsHelpWhoCanUseTheKey() {
        CliRun.Result r = CliRun.run("keygen", "--help");

        assertThat(r.out()).contains("-o, --output=FILE", "--force", "can run code on the cluster",
            "$CIRCUIT_KEY", "STATE_DIR/cluster.key");
    }
}
