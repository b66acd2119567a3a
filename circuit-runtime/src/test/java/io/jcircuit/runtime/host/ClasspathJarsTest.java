package io.jcircuit.runtime.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    private Path classesDir(String name, String file, String content) throws Exception {
        Path dir = tmp.resolve(name);
        Path f = dir.resolve(file);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content);
        return dir;
    }
}
