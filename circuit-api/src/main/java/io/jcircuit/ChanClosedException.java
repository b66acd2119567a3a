package io.jcircuit;

/** A send to a closed {@link Chan}, or a receive from one that is closed and drained. */
public class ChanClosedException extends CircuitException {

    public ChanClosedException(String message) {
        super(message);
    }
}
