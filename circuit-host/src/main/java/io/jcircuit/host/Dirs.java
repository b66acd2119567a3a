package io.jcircuit.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removal of the directories a circuit makes for itself: worker directories, temporary state. */
public final class Dirs {

    private Dirs() {
    }

    /**
     * Deletes {@code root} and everything below it, as far as it can; returns false when something
     * stayed (the caller's directories are temporary or kept for post-mortems, so it only reports).
     */
    public static boolean deleteTree(Path root) {
        if (!Files.exists(root)) {
            return true;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.sorted(Comparator.reverseOrder()).map(p -> p.toFile().delete()).reduce(true, Boolean::logicalAnd);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
