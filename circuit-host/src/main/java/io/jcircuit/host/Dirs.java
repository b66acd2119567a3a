package io.jcircuit.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removal of the directories a circuit makes for itself: worker directories, temporary state. */
public final class Dirs {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private Dirs() {
    }

    /**
     * Makes {@code dir} (and its missing parents), readable by its owner only where the file system
     * has POSIX permissions. With {@code always}, a directory that exists is made owner-only too (for
     * directories that are the caller's own, such as a host's worker directories); without it, one that
     * exists is left as its owner set it.
     *
     * @return {@code dir}
     */
    public static Path ownerOnly(Path dir, boolean always) throws IOException {
        boolean posix = Files.getFileStore(Files.createDirectories(dir.toAbsolutePath().getParent()))
            .supportsFileAttributeView("posix");
        if (!Files.isDirectory(dir)) {
            try {
                return posix ? Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY))
                    : Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made by another process at the same moment: treat as existing
            }
        }
        if (always && posix && !Files.getPosixFilePermissions(dir).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
        return dir;
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
