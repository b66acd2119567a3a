package io.jcircuit;

/**
 * A remote method threw an exception whose class cannot be loaded (or built) on the caller's side.
 * It carries the remote class name, message and stack; the stack trace of this exception is the
 * remote frames followed by the caller's own.
 *
 * <p>When the remote exception's class can be loaded, the caller gets an instance of that class
 * instead, with the same message and the same stack layout.
 */
public class RemoteException extends CircuitException {

    private static final long serialVersionUID = 1L;

    private final String remoteClassName;
    private final String remoteMessage;

    public RemoteException(String remoteClassName, String remoteMessage, Throwable cause) {
        super(remoteClassName + (remoteMessage == null ? "" : ": " + remoteMessage), cause);
        this.remoteClassName = remoteClassName;
        this.remoteMessage = remoteMessage;
    }

    /** The fully qualified name of the exception class thrown remotely. */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** The remote exception's message, possibly {@code null}. */
    public String remoteMessage() {
        return remoteMessage;
    }
}
