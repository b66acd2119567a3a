package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Profiles and heap dumps are written into scratch directories under the temporary directory; a worker killed
 * while it wrote one left it there for good (a probe found a 372 MB heap dump), so the next one asked for on the
 * machine removes those of processes that have ended.
 */
class ScratchDirectoryTest {

    @Test
    void aNewScratchDirectoryRemovesThoseOfEndedProcessesAndKeepsTheRest() throws Exception {
        Process ended = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-version")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        ended.waitFor();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path left = Files.createTempDirectory(tmp, OpsService.HEAP_SCRATCH + ended.pid() + "-");
        Files.write(left.resolve("heap.hprof"), new byte[4096]);
        Files.setLastModifiedTime(left, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofHours(1))));
        // as new as a profile under way: kept, since a process of another pid namespace may look ended from here
        Path recent = Files.createTempDirectory(tmp, OpsService.HEAP_SCRATCH + ended.pid() + "-");
        Path live = Files.createTempDirectory(tmp, OpsService.HEAP_SCRATCH + ProcessHandle.current().pid() + "-");
        Path notOurs = Files.createTempDirectory(tmp, OpsService.HEAP_SCRATCH + "x-");
        Path made = null;
        try {
            made = OpsService.scratchDirectory(OpsService.HEAP_SCRATCH);

            assertThat(left).as("left by a process that has ended").doesNotExist();
            assertThat(recent).as("of an ended process, but made just now").isDirectory();
            assertThat(live).as("of a process that runs").isDirectory();
            assertThat(notOurs).as("named otherwise").isDirectory();
            assertThat(made.getFileName().toString()).startsWith(OpsService.HEAP_SCRATCH + ProcessHandle.current().pid() + "-");
        } finally {
            for (Path d : new Path[] {live, notOurs, made, recent}) {
                if (d != null) {
                    Files.deleteIfExists(d);
                }
            }
        }
    }
}
