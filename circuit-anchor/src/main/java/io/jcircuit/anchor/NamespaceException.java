package io.jcircuit.anchor;

import io.jcircuit.CircuitException;

/**
 * ZooKeeper could not be reached, or refused an operation, or a directory holds more than one listing
 * may name ({@link NamespaceConfig#maxListedChildren}); the message names the ensemble and the
 * operation, or the directory and the limit.
 */
public final class NamespaceException extends CircuitException {

    public NamespaceException(String message) {
        super(message);
    }

    public NamespaceException(String message, Throwable cause) {
        super(message, cause);
    }
}
