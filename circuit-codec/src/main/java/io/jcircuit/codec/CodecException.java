package io.jcircuit.codec;

/**
 * A message could not be encoded (a value that cannot be serialized) or decoded (malformed bytes, an
 * unknown message kind, a class this runtime cannot load). The message says which.
 */
public final class CodecException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CodecException(String message) {
        this(message, null, false);
    }

    public CodecException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private final boolean beyondReaderLimits;

    /**
     * @param beyondReaderLimits the bytes were well formed, but went past what this reader takes or can load (see
     *                           {@link #beyondReaderLimits()})
     */
    public CodecException(String message, Throwable cause, boolean beyondReaderLimits) {
        super(message, cause);
        this.beyondReaderLimits = beyondReaderLimits;
    }

    /**
     * True when the message was well formed but could not be read here: it nests values deeper than this
     * runtime reads, holds a value of a class this runtime cannot load, or holds a value that its own
     * class refused as it was read (its {@code readObject}, {@code readResolve} or {@code readExternal}
     * threw). The message alone is lost, and the stream it came in is sound.
     */
    public boolean beyondReaderLimits() {
        return beyondReaderLimits;
    }
}
