package io.jcircuit.cli;

import io.jcircuit.anchor.EmbeddedZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class LocalDirsTest {

    /** A directory as a local circuit leaves it: ZooKeeper's lock file and data, and a worker's directory. */
    private static Path leftBehind(Path parent, String name, Instant changed) throws Exception {
        Path d = Files.createDirectories(parent.resolve(name));
        Files.createDirectories(d.resolve("zookeeper/data"));
        Files.writeString(d.resolve("zookeeper/lock"), "");
        Files.createDirectories(d.resolve("workers/R0123456789abcdef"));
        Files.writeString(d.resolve("workers/R0123456789abcdef/stderr"), "bye\n");
        Files.setLastModifiedTime(d, FileTime.from(changed));
        return d;
    }

    @Test
    void removesOnlyTheDirectoriesOfItsKindThatNoProcessUses(@TempDir Path parent) throws Exception {
        Instant old = Instant.now().minusSeconds(600);
        Path killed = leftBehind(parent, "jcircuit-demo-1", old);
        Path starting = leftBehind(parent, "jcircuit-demo-2", Instant.now());
        Path otherKind = leftBehind(parent, "jcircuit-run-3", old);
        Path swapKind = leftBehind(parent, "jcircuit-demo-swap-5", old); // demo's prefix begins it
        Path running = Files.createDirectories(parent.resolve("jcircuit-demo-4"));
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(running, 0)) {
            Files.setLastModifiedTime(running, FileTime.from(old));

            // before: a demo killed with kill -9 left its directory in /tmp for good
            assertThat(LocalDirs.removeStale(parent, "jcircuit-demo-", Instant.now().minus(LocalDirs.START_GRACE))).isEqualTo(1);

            assertThat(killed).doesNotExist();
            assertThat(starting).as("may not have locked its ZooKeeper yet").isDirectory();
            assertThat(otherKind).as("another command's kind").isDirectory();
            assertThat(swapKind).as("another command's kind").isDirectory();
            assertThat(running).as("its ZooKeeper runs").isDirectory();
            assertThat(running.resolve("zookeeper/data")).isDirectory();
        }
    }
}
