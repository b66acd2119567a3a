package io.jcircuit.codec;

/**
 * A message could not be encoded (a value that cannot be serialized) or decoded (malformed bytes, an
 * unknown message kind, a class this runtime cannot load). The message says which.
 */
public final class CodecException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CodecException(String message) {
        super(message);
    }

    public CodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
