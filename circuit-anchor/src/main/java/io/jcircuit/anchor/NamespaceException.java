package io.jcircuit.anchor;

import io.jcircuit.CircuitException;

/** ZooKeeper could not be reached, or refused an operation; the message names the ensemble and the operation. */
public final class NamespaceException extends CircuitException {

    public NamespaceException(String message) {
        super(message);
    }

    public NamespaceException(String message, Throwable cause) {
        super(message, cause);
    }
}
