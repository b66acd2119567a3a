package io.jcircuit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An output file is checked before any worker profiles or dumps its heap for it: a probe's {@code profile -o
 * /proc/x.html} profiled for its whole time and then failed with the bare path as its reason.
 */
class CheckWritableTest {

    @TempDir
    Path dir;

    @Test
    void aDirectoryThatTakesNoNewFileIsRefusedBeforeTheWork() {
        assertThatThrownBy(() -> WorkerOps.checkWritable(Path.of("/proc/x.html")))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("cannot write /proc/x.html: directory /proc takes no new file (");
    }

    @Test
    void aFileThereIsReplacedUnlessItIsNoFile() throws Exception {
        Path there = Files.writeString(dir.resolve("old.html"), "old");
        WorkerOps.checkWritable(there); // a flame graph replaces an earlier one, as --output's help says
        Path sub = Files.createDirectory(dir.resolve("sub.html"));
        assertThatThrownBy(() -> WorkerOps.checkWritable(sub)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("it exists and is not a file this user may replace");
        try (var left = Files.list(dir)) {
            assertThat(left).as("no scratch file left behind").containsExactlyInAnyOrder(there, sub);
        }
    }
}
