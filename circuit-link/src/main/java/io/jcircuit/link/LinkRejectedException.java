package io.jcircuit.link;

/**
 * The peer at a dialed address refused the handshake: another worker listens there, it no longer
 * knows the session being resumed, or (not final) it already has a connection for that session.
 */
public final class LinkRejectedException extends Exception {

    private static final long serialVersionUID = 1L;

    private final boolean isFinal;

    public LinkRejectedException(String reason) {
        this(reason, true);
    }

    LinkRejectedException(String reason, boolean isFinal) {
        super(reason);
        this.isFinal = isFinal;
    }

    /** True when dialing again cannot succeed: the worker the dialer wants is not there any more. */
    public boolean isFinal() {
        return isFinal;
    }
}
