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

    private static final long[] NO_HOLDS = new long[0];

    private final boolean beyondReaderLimits;
    private long[] holds = NO_HOLDS;

    /**
     * @param beyondReaderLimits the bytes were well formed, but went past what this reader takes or can load (see
     *                           {@link #beyondReaderLimits()})
     */
    public CodecException(String message, Throwable cause, boolean beyondReaderLimits) {
        super(message, cause);
        this.beyondReaderLimits = beyondReaderLimits;
    }

    /**
     * True when the message's envelope (its kind, call id, fixed fields and list of holds) was sound but its
     * values could not be read here: it nests values deeper than this runtime reads, holds a value of a class
     * this runtime cannot load, a value that its own class refused as it was read (its {@code readObject},
     * {@code readResolve}, {@code readExternal} or a record's constructor threw), one the serializer could not
     * rebuild, or bytes that do not decode. The message alone is lost, and the stream it came in is sound;
     * false for a broken envelope, which leaves neither.
     */
    public boolean beyondReaderLimits() {
        return beyondReaderLimits;
    }

    /**
     * The holds, by handle, that the failed message counted for the peer and that no reference of the
     * peer's took over; empty when there are none. Encoding for a peer, they are the holds the writing
     * runtime counted before it failed: the message is not sent, so they are undone there. Decoding a
     * message from a peer, they are the sender's own references listed in it that were not read
     * before it failed: the receiver releases them at the sender (the ones it read are released
     * by their handlers, as any others). Do not modify the array.
     */
    public long[] holds() {
        return holds;
    }

    /** Sets {@link #holds()}; returns this exception. */
    CodecException holding(long[] handles) {
        this.holds = handles;
        return this;
    }
}
