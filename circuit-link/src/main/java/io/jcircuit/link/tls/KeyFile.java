package io.jcircuit.link.tls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads and writes a secret file: written readable by its owner only where the file system has POSIX
 * permissions, refused on reading when group or others have any access to it, and read with errors
 * that say what to do.
 */
final class KeyFile {

    /** A cluster key file is a few hundred bytes; anything far larger is not one. */
    private static final long MAX_BYTES = 64 * 1024;
    private static final Set<PosixFilePermission> OWNER_ONLY =
        Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    /** What a key file may allow when read: anything to its owner, nothing to group or others. */
    private static final Set<PosixFilePermission> OWNER_ALL =
        Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

    private KeyFile() {
    }

    /**
     * The file's text.
     *
     * @throws ClusterKeyException naming the file when it is missing, a directory or another file that
     *                             is not a regular one (a pipe), open to group or others, unreadable or too large
     */
    static String read(Path file) {
        if (Files.isDirectory(file)) {
            throw ClusterKey.problem(file, "is a directory; give the path of the file that 'circuit keygen' wrote");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // A pipe reads once: a host's workers, and the commands that load the key twice, would find it empty
            // (or, with no writer, wait for ever); a device may never end.
            throw ClusterKey.problem(file, "is not a regular file (a pipe, such as the shell's <(...), or a device): the key"
                + " is read from its path again, by the workers a host starts among others, so give the path of the file"
                + " that 'circuit keygen' wrote");
        }
        try {
            checkOwnerOnly(file);
            if (Files.size(file) > MAX_BYTES) {
                throw ClusterKey.problem(file, "is " + Files.size(file) + " bytes long, too large to be a cluster key file");
            }
            return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new ClusterKeyException(file, "cluster key file " + file + " does not exist; make one with "
                + "'circuit keygen', or give the path of the cluster's key", e);
        } catch (AccessDeniedException e) {
            throw new ClusterKeyException(file, "cluster key file " + file + " cannot be read by user "
                + System.getProperty("user.name") + "; run as the file's owner, or check its permissions", e);
        } catch (IOException e) {
            throw new ClusterKeyException(file, "cannot read cluster key file " + file + ": " + e, e);
        }
    }

    /**
     * Creates {@code file} holding {@code bytes}, mode {@code rw-------}.
     *
     * @throws java.nio.file.FileAlreadyExistsException when it exists, which is then left untouched
     */
    static void create(Path file, byte[] bytes) throws IOException {
        Set<StandardOpenOption> options = EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        // Opening fails with FileAlreadyExistsException before anything is created; past it, the file is ours.
        SeekableByteChannel ch = Files.newByteChannel(file, options, ownerOnly(file));
        try (ch) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        restrictToOwner(file);
    }

    /**
     * Replaces {@code file}, or creates it, in one step: the bytes go to a temporary file beside it
     * (mode {@code rw-------}), which is then moved over it, so the file never holds a mix.
     */
    static void replace(Path file, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".cluster-key-", ".tmp", ownerOnly(file));
        try {
            Files.write(tmp, bytes);
            restrictToOwner(tmp);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Refuses a file that group or others may read, write or execute, as ssh refuses such a private key:
     * whoever can read the key can run code on every host, and whoever can write it can swap in a key of
     * their own. Where the file system has no POSIX permissions (Windows) there is nothing to check, and
     * the file's access rights are the caller's to restrict. The check reads the mode of the file the
     * path leads to (a link is followed, as the read that comes next follows it).
     *
     * @throws ClusterKeyException naming the file, its mode, and the {@code chmod} that fixes it
     */
    private static void checkOwnerOnly(Path file) throws IOException {
        if (!posix(file)) {
            return;
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
        if (!OWNER_ALL.containsAll(mode)) {
            String shown = PosixFilePermissions.toString(mode);
            throw ClusterKey.problem(file, "has mode " + shown + ": group or others can use it, and whoever reads "
                + "it can run code on every host of the cluster, so it is not loaded. If nobody else has read it, "
                + "restrict it with 'chmod 600 " + file + "'; if somebody may have, make a new key with "
                + "'circuit keygen' and put it on every machine");
        }
    }

    private static boolean posix(Path file) {
        return file.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static FileAttribute<?>[] ownerOnly(Path file) {
        return posix(file) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
            : new FileAttribute<?>[0];
    }

    /** Sets exactly {@code rw-------}: the creation mode passed the umask, which may have taken more away. */
    private static void restrictToOwner(Path file) throws IOException {
        if (posix(file)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY);
        }
    }
}
