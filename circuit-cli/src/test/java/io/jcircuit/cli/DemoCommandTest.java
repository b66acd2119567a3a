package io.jcircuit.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code circuit demo}: the wordcount on a local circuit, its JSON, and no process left behind. */
@Tag("slow")
class DemoCommandTest {

    /**
     * A cache directory where jars cannot be kept is refused in one line before anything starts. Before, the
     * demo started its circuit, logged two warnings and failed at its first spawn with the file system's
     * exception, its class name in the message.
     */
    @Test
    void aCacheWhereJarsCannotBeKeptIsRefusedBeforeAnythingStarts(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        CliRun.Result r = CliRun.run("demo", "--workers", "1", "--files", "10", "--cache", file.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("circuit demo: cannot keep jars in the cache directory " + file)
            .doesNotContain("Exception").doesNotContain("WARN");
        assertThat(r.err().strip().lines()).hasSize(1);
    }

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
    void anInterruptedDemoLeavesNoProcessBehindAndSaysOnlyTrueThings(@TempDir Path cache) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path stderr = cache.resolve("demo.err"); // a file: destroy() closes the streams of a process
        Process demo = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo", "--workers", "2", "--cache",
            cache.resolve("cache").toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
        try {
            // wait until it counts (its progress bar's rate)
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                .until(() -> !demo.isAlive() || Files.readString(stderr).contains("MB/s"));
            assertThat(Files.readString(stderr)).as("the demo counts").contains("MB/s");
            List<ProcessHandle> workers = demo.descendants().toList();
            assertThat(workers).as("worker JVMs of the demo").isNotEmpty();

            demo.destroy(); // SIGTERM, as Ctrl-C would: the shutdown hook stops the local circuit
            assertThat(demo.waitFor()).isNotNegative();
            await().atMost(Duration.ofSeconds(20)).until(() -> workers.stream().noneMatch(ProcessHandle::isAlive));
            // before: "kept <dir> for the workers' logs" of a directory the hook had removed, then "Shutdown in
            // progress" (a hook taken off during shutdown) and a WordCount thread's uncaught "runtime ... is closed"
            String said = Files.readString(stderr);
            Matcher kept = Pattern.compile("kept (\\S+) for the workers' logs").matcher(said);
            if (kept.find()) {
                assertThat(Path.of(kept.group(1))).as("the demo said: " + kept.group()).isDirectory();
            }
            assertThat(said).doesNotContain("Shutdown in progress").doesNotContain("Exception in thread");
        } finally {
            demo.destroyForcibly();
        }
    }
}
