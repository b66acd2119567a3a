package io.jcircuit.host;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Two spawners with different versions of one jar: their workers run side by side, each with its own. */
@Tag("slow")
class SideBySideTest {

    private static Path jarWithVersion(Path dir, String version) throws IOException {
        Path jar = dir.resolve("app-" + version + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.putNextEntry(new JarEntry(SpawnerMain.RESOURCE));
            j.write(version.getBytes(StandardCharsets.UTF_8));
            j.closeEntry();
        }
        return jar;
    }

    /** Runs {@link SpawnerMain} with {@code extraJar} first on its classpath; returns its RESULT. */
    private static String spawnFrom(Path extraJar, String zookeeper) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-cp", extraJar + File.pathSeparator + System.getProperty("java.class.path"),
            SpawnerMain.class.getName(), zookeeper, "v").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String result = null;
            for (String l; (l = r.readLine()) != null; ) {
                if (l.startsWith("RESULT ")) {
                    result = l.substring("RESULT ".length());
                }
            }
            assertThat(p.waitFor()).isZero();
            return result;
        }
    }

    @Test
    void twoVersionsOfAJarRunSideBySide(@TempDir Path state, @TempDir Path jars) throws Exception {
        Path v1 = jarWithVersion(jars, "1");
        Path v2 = jarWithVersion(jars, "2");
        try (HostDaemon host = HostDaemon.start(new HostDaemon.Config("v", state, null, null, 0, 0))) {
            assertThat(spawnFrom(v1, host.zookeeper())).isEqualTo("1");
            assertThat(spawnFrom(v2, host.zookeeper())).isEqualTo("2");
            try (Stream<Path> cached = Files.list(state.resolve("jars"))) {
                assertThat(cached.map(p -> p.getFileName().toString())).contains(
                    io.jcircuit.runtime.host.ClasspathJars.sha256(v1) + ".jar",
                    io.jcircuit.runtime.host.ClasspathJars.sha256(v2) + ".jar");
            }
        }
    }
}
