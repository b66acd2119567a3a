package io.jcircuit;

/**
 * A value in a call's request could not be written: its class refused it (its {@code writeObject} or
 * {@code writeExternal} threw, as a class that holds a socket or guards its invariants does), or the
 * codec cannot write a value of its kind. The call was not sent, so it did not run; only it fails, and
 * the link and its other calls go on. A {@link Chan} catches it when it sends, and sends the other items
 * of the batch without the unwritable one. The callee's result (or the exception it threw) that could not
 * be written fails the call the same way, with this exception in its place: then the call ran.
 */
public class UnwritableValueException extends CircuitException {

    private static final long serialVersionUID = 1L;

    public UnwritableValueException(String message, Throwable cause) {
        super(message, cause);
    }
}
