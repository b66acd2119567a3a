package io.jcircuit;

/**
 * The root of JCircuit's own failures. Unchecked, so remote interfaces need not declare it, as RMI
 * forces them to.
 */
public class CircuitException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CircuitException(String message) {
        super(message);
    }

    public CircuitException(String message, Throwable cause) {
        super(message, cause);
    }
}
