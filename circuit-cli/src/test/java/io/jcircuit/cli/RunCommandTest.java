package io.jcircuit.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code circuit run}: a program in a JVM of its own, as a client of a circuit. */
class RunCommandTest {

    /** The examples on this test's classpath: a jar in a packaged build, classes in the reactor. */
    private static String examples() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(p -> p.contains("examples")).findFirst().orElseThrow();
    }

    @Test
    @Tag("slow")
    void runsTheSpawnExampleInACircuitOfItsOwnAndLeavesNoProcessBehind() {
        CliRun.Result r = CliRun.run("run", "--local", examples(), "io.jcircuit.examples.hello.HelloSpawn", "tester");
        assertThat(r.code()).as(r.err()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.current().descendants()
            .noneMatch(p -> p.info().commandLine().orElse("").contains("io.jcircuit.runtime.host.WorkerMain")));
    }

    @Test
    void aMissingJarIsNamed() {
        CliRun.Result r = CliRun.run("run", "--local", "/nowhere/app.jar");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no such jar: /nowhere/app.jar");
    }

    @Test
    void withNoCircuitTheErrorSaysWhatWasTriedAndOffersLocal(@org.junit.jupiter.api.io.TempDir java.nio.file.Path empty) {
        CliRun.Result r = CliRun.run("run", "--dir", empty.toString(), examples(), "io.jcircuit.examples.hello.HelloSpawn");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no circuit to run in").contains("--local");
    }
}
