package io.jcircuit.link;

/** The peer at a dialed address refused the handshake, or is not the worker the dialer expected. */
public final class LinkRejectedException extends Exception {

    private static final long serialVersionUID = 1L;

    public LinkRejectedException(String reason) {
        super(reason);
    }
}
