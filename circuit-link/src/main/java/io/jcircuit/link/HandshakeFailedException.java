package io.jcircuit.link;

import java.net.ConnectException;

/**
 * A connection was made, but the peer closed it before the link's handshake was done. The usual
 * cause is a cluster-key mismatch: one side speaks TLS and the other does not, or their keys differ.
 * Nothing was sent that could have run there.
 */
public final class HandshakeFailedException extends ConnectException {

    public HandshakeFailedException(String message) {
        super(message);
    }

    /**
     * True when {@code failure} (a {@code WorkerDiedException}, say) was caused by a failed handshake: the
     * peer is there but would not link (a cluster-key mismatch), so no request reached it, and it is no
     * sign that the peer has gone.
     */
    public static boolean caused(Throwable failure) {
        return failure.getCause() instanceof HandshakeFailedException;
    }
}
