package io.jcircuit;

/**
 * A call's request or answer encodes to more than the link's frame limit, so it was not sent. Only
 * that call fails; the link and its other calls go on. A {@link Chan} catches it and sends or
 * receives in smaller batches.
 */
public class FrameTooLargeException extends CircuitException {

    private static final long serialVersionUID = 1L;

    public FrameTooLargeException(String message) {
        super(message);
    }
}
