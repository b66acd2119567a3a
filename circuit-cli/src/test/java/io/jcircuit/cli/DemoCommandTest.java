package io.jcircuit.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code circuit demo}: the wordcount on a local circuit, its JSON, and no process left behind. */
@Tag("slow")
class DemoCommandTest {

    @Test
    void aShortRunPrintsTheJsonReport(@TempDir Path cache) throws Exception {
        CliRun.Result r = CliRun.run("demo", "--workers", "1", "--files", "150", "--json", "--cache", cache.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).startsWith("{\"files\":150,\"bytes\":").contains("\"tokens\":")
            .contains("\"top\":[[\"").contains("\"seconds\":").contains("\"baseline_seconds\":").endsWith("\"workers\":1}");
        assertThat(r.err()).contains("files").contains("MB/s");
        await().atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.current().descendants()
            .noneMatch(p -> p.info().commandLine().orElse("").contains("io.jcircuit.runtime.host.WorkerMain")));
        try (var jars = Files.list(cache.resolve("jars"))) {
            assertThat(jars).as("jars kept in --cache for the next run").isNotEmpty();
        }
    }

    @Test
    void anInterruptedDemoLeavesNoProcessBehind(@TempDir Path cache) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process demo = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo", "--workers", "2", "--cache", cache.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader err = new BufferedReader(new InputStreamReader(demo.getErrorStream(), StandardCharsets.UTF_8))) {
            // wait until it counts: the progress bar draws with carriage returns, so read characters
            StringBuilder seen = new StringBuilder();
            while (!seen.toString().contains("MB/s")) {
                int c = err.read();
                assertThat(c).as("the demo ended before counting: " + seen).isNotNegative();
                seen.append((char) c);
            }
            List<ProcessHandle> workers = demo.descendants().toList();
            assertThat(workers).as("worker JVMs of the demo").isNotEmpty();

            demo.destroy(); // SIGTERM, as Ctrl-C would: the shutdown hook stops the local circuit
            assertThat(demo.waitFor()).isNotNegative();
            await().atMost(Duration.ofSeconds(20)).until(() -> workers.stream().noneMatch(ProcessHandle::isAlive));
        } finally {
            demo.destroyForcibly();
        }
    }
}
