package io.jcircuit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RuntimeJarsTest {

    private static String cp(Object... entries) {
        StringBuilder b = new StringBuilder();
        for (Object e : entries) {
            b.append(b.isEmpty() ? "" : File.pathSeparator).append(e);
        }
        return b.toString();
    }

    @Test
    void keepsOnlyTheListedJarsOfALibDirectoryAndEverythingOutsideIt(@TempDir Path dir) throws Exception {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        // as maven-dependency-plugin's build-classpath writes it
        Files.writeString(lib.resolve(RuntimeJars.LIST), "lib/circuit-runtime-1.jar:lib/netty-4.jar\n");
        Path cli = dir.resolve("circuit-cli.jar");
        Path app = dir.resolve("app").resolve("app.jar");

        String kept = RuntimeJars.of(cp(cli, lib.resolve("circuit-runtime-1.jar"), lib.resolve("examples-1.jar"),
            lib.resolve("netty-4.jar"), lib.resolve("bench-1.jar"), app));

        assertThat(kept).isEqualTo(cp(cli, lib.resolve("circuit-runtime-1.jar"), lib.resolve("netty-4.jar"), app));
    }

    @Test
    void keepsTheWholeClassPathWhereNoListIs(@TempDir Path dir) {
        String whole = cp(dir.resolve("a.jar"), dir.resolve("lib").resolve("examples-1.jar"), dir.resolve("classes"));

        assertThat(RuntimeJars.of(whole)).isEqualTo(whole);
    }
}
