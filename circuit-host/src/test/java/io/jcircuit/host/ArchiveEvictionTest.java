package io.jcircuit.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ArchiveEvictionTest {

    @Test
    void keepsTheMostRecentlyUsedArchivesTheNewOneAndThoseBeingWritten(@TempDir Path cds) throws Exception {
        for (int i = 0; i < 12; i++) { // a0 the oldest, a11 the newest
            Path a = Files.writeString(cds.resolve("a" + i + ".jsa"), "archive");
            Files.setLastModifiedTime(a, FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Files.writeString(cds.resolve("notes.txt"), "not an archive");
        Path fresh = cds.resolve("new.jsa");
        Path writing = cds.resolve("a0.jsa");

        // before: one archive of about 20 MB per classpath ever spawned, for ever
        HostDaemon.evictArchives(cds, 4, fresh, Set.of(writing));

        try (Stream<Path> left = Files.list(cds)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                .containsExactlyInAnyOrder("a11.jsa", "a10.jsa", "a9.jsa", "a0.jsa", "notes.txt");
        }
    }
}
