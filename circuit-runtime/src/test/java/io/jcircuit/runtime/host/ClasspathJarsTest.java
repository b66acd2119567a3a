package io.jcircuit.runtime.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** A spawner's classpath as content-addressed jars, on real files. */
class ClasspathJarsTest {

    @TempDir
    Path tmp;

    @Test
    void jarsAndDirectoriesBecomeReferencesInOrderAndMissingEntriesAreSkipped() throws Exception {
        Path jar = Files.write(tmp.resolve("lib.jar"), new byte[]{1, 2, 3, 4, 5});
        Path classes = classesDir("classes", "a/A.class", "one");
        String cp = String.join(File.pathSeparator, classes.toString(), "", tmp.resolve("missing.jar").toString(), jar.toString());

        List<JarRef> refs = new ClasspathJars(tmp.resolve("packs")).of(cp);

        assertThat(refs).extracting(JarRef::name).containsExactly("classes.jar", "lib.jar");
        assertThat(refs.get(1).size()).isEqualTo(5);
        assertThat(refs).allSatisfy(r -> assertThat(r.sha256()).matches("[0-9a-f]{64}"));
    }

    @Test
    void aDirectoryHashesByContentAndAChangeBelowItGivesANewHash() throws Exception {
        Path classes = classesDir("classes", "a/A.class", "one");
        ClasspathJars jars = new ClasspathJars(tmp.resolve("packs"));
        JarRef first = jars.of(classes.toString()).getFirst();

        assertThat(jars.of(classes.toString())).containsExactly(first);
        Path same = classesDir("copy/classes", "a/A.class", "one");
        assertThat(new ClasspathJars(tmp.resolve("other")).of(same.toString()).getFirst().sha256())
            .as("the same content elsewhere, packed by another instance").isEqualTo(first.sha256());

        Path changed = Files.writeString(classes.resolve("a/A.class"), "two");
        Files.setLastModifiedTime(changed, FileTime.fromMillis(Files.getLastModifiedTime(changed).toMillis() + 2_000));
        JarRef second = jars.of(classes.toString()).getFirst();
        assertThat(second.sha256()).isNotEqualTo(first.sha256());

        Files.writeString(classes.resolve("a/B.class"), "new");
        assertThat(jars.of(classes.toString()).getFirst().sha256()).isNotEqualTo(second.sha256());
    }

    @Test
    void servesTheBytesOfAJarItListedAndRefusesOthers() throws Exception {
        byte[] content = new byte[3000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) i;
        }
        Path jar = Files.write(tmp.resolve("lib.jar"), content);
        ClasspathJars jars = new ClasspathJars(tmp.resolve("packs"));
        JarRef ref = jars.of(jar.toString()).getFirst();

        assertThat(jars.read(ref.sha256(), 0, 10)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(jars.read(ref.sha256(), 2990, 100)).hasSize(10);
        assertThatThrownBy(() -> jars.read("0".repeat(64), 0, 10)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("no jar");
    }

    /**
     * A file already in the pack directory under the name the pack will have (planted, left by a crash, or
     * packed by an older version) is replaced by what this instance packed and hashed: whatever is listed
     * is shipped to every host and run with the cluster key, and the host can only check the hash it is told.
     */
    @Test
    void aFileAlreadyNamedAsThePackIsReplacedByTheBytesThisInstancePackedAndHashed() throws Exception {
        Path classes = classesDir("classes", "a/A.class", "one");
        JarRef predicted = new ClasspathJars(tmp.resolve("elsewhere")).of(classes.toString()).getFirst();
        byte[] packedBytes = Files.readAllBytes(tmp.resolve("elsewhere").resolve(predicted.sha256() + ".jar"));
        Path packs = Files.createDirectory(tmp.resolve("packs"));
        Path planted = Files.writeString(packs.resolve(predicted.sha256() + ".jar"), "not what the spawner packed");

        ClasspathJars jars = new ClasspathJars(packs);
        JarRef ref = jars.of(classes.toString()).getFirst();

        assertThat(ref).isEqualTo(predicted);
        assertThat(jars.read(ref.sha256(), 0, packedBytes.length)).isEqualTo(packedBytes);
        assertThat(planted).hasBinaryContent(packedBytes);
    }

    @Test
    void makesThePackDirectoryOwnerOnlyAndRefusesOneThatOthersCanWriteInto() throws Exception {
        assumeThat(tmp.getFileSystem().supportedFileAttributeViews()).contains("posix");
        Path classes = classesDir("classes", "a/A.class", "one");
        Path made = tmp.resolve("cache/jcircuit/packs");
        new ClasspathJars(made).of(classes.toString());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made))).isEqualTo("rwx------");

        for (String mode : List.of("rwxrwxrwx", "rwxrwxr-x", "rwx----wx")) {
            Path open = Files.createDirectories(tmp.resolve(mode.replace('-', '_')));
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString(mode)); // made first by another user, or by a umask of 002
            assertThatThrownBy(() -> new ClasspathJars(open).of(classes.toString())).as(mode)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("the directory " + open + " where classes directories are packed for spawns has mode " + mode)
                .hasMessageContaining("'chmod 700 " + open + "'");
            assertThat(open).isEmptyDirectory();
        }
        Path readable = Files.createDirectories(tmp.resolve("readable"));
        Files.setPosixFilePermissions(readable, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(new ClasspathJars(readable).of(classes.toString())).hasSize(1);
    }

    /** Runs only as root, the one user here that can give a directory to another. */
    @Test
    void refusesAPackDirectoryOfAnotherUser() throws Exception {
        assumeThat(tmp.getFileSystem().supportedFileAttributeViews()).contains("posix");
        assumeThat(System.getProperty("user.name")).isEqualTo("root");
        Path classes = classesDir("classes", "a/A.class", "one");
        Path theirs = Files.createDirectory(tmp.resolve("theirs"));
        Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("rwx------"));
        Files.setOwner(theirs, theirs.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));

        assertThatThrownBy(() -> new ClasspathJars(theirs).of(classes.toString()))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageStartingWith("the directory " + theirs + " where classes directories are packed for spawns belongs to nobody, not to root");
        assertThat(theirs).isEmptyDirectory();
    }

    @Test
    void removesPacksNobodyMadeForAWeekAndPacksAgainWhenItsOwnIsGone() throws Exception {
        Path packs = Files.createDirectory(tmp.resolve("packs"));
        FileTime weekAndADayAgo = FileTime.from(Instant.now().minus(ClasspathJars.PACKS_KEPT).minusSeconds(86_400));
        Path stale = Files.writeString(packs.resolve("0".repeat(64) + ".jar"), "old");
        Files.setLastModifiedTime(stale, weekAndADayAgo);
        Path recent = Files.writeString(packs.resolve("1".repeat(64) + ".jar"), "recent");
        Path other = Files.writeString(packs.resolve("notes.txt"), "not a pack");
        Files.setLastModifiedTime(other, weekAndADayAgo);

        ClasspathJars jars = new ClasspathJars(packs);
        Path classes = classesDir("classes", "a/A.class", "one");
        JarRef ref = jars.of(classes.toString()).getFirst();
        Path pack = packs.resolve(ref.sha256() + ".jar");

        assertThat(stale).doesNotExist();
        assertThat(recent).exists();
        assertThat(other).exists();
        Files.delete(pack); // removed by another spawner of this user, as its pack got too old
        assertThat(jars.of(classes.toString())).containsExactly(ref);
        assertThat(pack).exists();
        Files.setLastModifiedTime(pack, FileTime.from(Instant.now().minus(ClasspathJars.PACKS_KEPT.dividedBy(2)).minusSeconds(60)));
        assertThat(jars.of(classes.toString())).containsExactly(ref);
        assertThat(Files.getLastModifiedTime(pack).toInstant()).as("packed again before another spawner may remove it")
            .isAfter(Instant.now().minusSeconds(60));
    }

    private Path classesDir(String name, String file, String content) throws Exception {
        Path dir = tmp.resolve(name);
        Path f = dir.resolve(file);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content);
        return dir;
    }
}
