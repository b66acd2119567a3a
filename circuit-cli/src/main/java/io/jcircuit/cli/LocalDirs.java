package io.jcircuit.cli;

import io.jcircuit.anchor.EmbeddedZooKeeper;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * The temporary state directories of the commands that start a local circuit of their own ({@code demo},
 * {@code demo swap}, {@code run --local}): each holds the circuit's ZooKeeper data, jar cache and worker
 * directories, and its command deletes it when it ends, Ctrl-C included. A command killed outright
 * ({@code kill -9}) leaves its directory behind; the next command that makes one removes the directories
 * of its kind that no process uses any more: old enough to be past their start, and with no process
 * holding their embedded ZooKeeper's lock.
 */
final class LocalDirs {

    /** A directory younger than this may belong to a command that has not locked its ZooKeeper yet. */
    static final Duration START_GRACE = Duration.ofMinutes(1);

    private LocalDirs() {
    }

    /** A new directory {@code <prefix><random>} in the temporary directory, after removing stale ones of {@code prefix}. */
    static Path create(String prefix) throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        removeStale(tmp, prefix, Instant.now().minus(START_GRACE));
        return Files.createTempDirectory(prefix);
    }

    /**
     * Removes the directories {@code <prefix>*} of {@code parent} last changed before {@code startedBefore}
     * whose embedded ZooKeeper no process runs. Returns how many it removed; one it cannot read or
     * remove is left alone.
     */
    static int removeStale(Path parent, String prefix, Instant startedBefore) {
        int removed = 0;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(parent, prefix + "*")) {
            for (Path d : dirs) {
                if (!d.getFileName().toString().substring(prefix.length()).matches("[0-9]+")) {
                    continue; // another kind whose prefix begins with this one (jcircuit-demo-swap-, for jcircuit-demo-)
                }
                try {
                    if (Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.isWritable(d)
                        && Files.getLastModifiedTime(d).toInstant().isBefore(startedBefore)
                        && !EmbeddedZooKeeper.runsIn(d)) {
                        removed += io.jcircuit.host.Dirs.deleteTree(d) ? 1 : 0;
                    }
                } catch (IOException | RuntimeException e) {
                    // another user's, or going meanwhile: not ours to judge
                }
            }
        } catch (IOException e) {
            return removed; // no temporary directory to look in: nothing to remove
        }
        return removed;
    }
}
