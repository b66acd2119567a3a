package io.jcircuit.link.tls;

import java.nio.file.Path;

/**
 * A cluster key file could not be read, was not a valid cluster key, or could not be written. The
 * message names the file and says what to do; {@link #file()} gives it to code that wants to say more.
 */
public final class ClusterKeyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Not serialized: {@link Path} is not serializable, and the message names the file anyway. */
    private final transient Path file;

    ClusterKeyException(Path file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    ClusterKeyException(Path file, String message) {
        this(file, message, null);
    }

    /** The cluster key file concerned; {@code null} after deserialization. */
    public Path file() {
        return file;
    }
}
