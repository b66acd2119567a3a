package io.jcircuit.link;

import java.net.ConnectException;

/**
 * A connection was made, but the peer said nothing within the connect timeout: it is stopped, paused
 * or too busy to answer, rather than refusing to link ({@link HandshakeFailedException}). Nothing was
 * sent that could have run there.
 */
public final class HandshakeTimeoutException extends ConnectException {

    public HandshakeTimeoutException(String message) {
        super(message);
    }

    /** True when {@code failure} (a {@code WorkerDiedException}, say) was caused by a peer that did not answer the handshake. */
    public static boolean caused(Throwable failure) {
        return failure.getCause() instanceof HandshakeTimeoutException;
    }
}
