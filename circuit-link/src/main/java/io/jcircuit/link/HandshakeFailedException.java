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
}
