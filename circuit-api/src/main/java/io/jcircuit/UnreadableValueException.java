package io.jcircuit;

/**
 * A value in a call's request or answer could not be read by the side that received it: its class
 * is not on that side's classpath, it nests deeper than a reader takes, or its class refused it as it
 * was read (its {@code readObject}, {@code readResolve} or {@code readExternal} threw, as a class that
 * checks its invariants does for a value it does not accept). Only that call fails; the
 * link and its other calls go on. A request that could not be read did not run. A {@link Chan}
 * catches it when it sends, and sends the other items of the batch without the unreadable one.
 */
public class UnreadableValueException extends CircuitException {

    private static final long serialVersionUID = 1L;

    public UnreadableValueException(String message) {
        super(message);
    }

    public UnreadableValueException(String message, Throwable cause) {
        super(message, cause);
    }
}
