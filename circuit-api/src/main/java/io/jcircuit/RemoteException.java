package io.jcircuit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A remote method threw an exception whose class cannot be loaded (or built) on the caller's side.
 * It carries the remote class name, message, stack and the fields of the remote exception that
 * travel (its own non-static, non-transient fields of primitive, boxed or {@code String} type); the
 * stack trace of this exception is the remote frames followed by the caller's own.
 *
 * <p>When the remote exception's class can be loaded, the caller gets an instance of that class
 * instead, with the same message, the same stack layout and those fields set.
 */
public class RemoteException extends CircuitException {

    private static final long serialVersionUID = 1L;

    private final String remoteClassName;
    private final String remoteMessage;
    private final Map<String, Object> remoteFields;

    public RemoteException(String remoteClassName, String remoteMessage, Throwable cause) {
        this(remoteClassName, remoteMessage, cause, Map.of());
    }

    /**
     * @param remoteFields the remote exception's fields that travelled, keyed {@code DeclaringClass#name}
     *                     (the declaring class's binary name), the most derived class's first; values are
     *                     boxed primitives, strings or null
     */
    public RemoteException(String remoteClassName, String remoteMessage, Throwable cause, Map<String, ?> remoteFields) {
        super(remoteClassName + (remoteMessage == null ? "" : ": " + remoteMessage), cause);
        this.remoteClassName = remoteClassName;
        this.remoteMessage = remoteMessage;
        this.remoteFields = remoteFields.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(remoteFields));
    }

    /** The fully qualified name of the exception class thrown remotely. */
    public String remoteClassName() {
        return remoteClassName;
    }

    /** The remote exception's message, possibly {@code null}. */
    public String remoteMessage() {
        return remoteMessage;
    }

    /**
     * The remote exception's fields that travelled, keyed {@code DeclaringClass#name} (for example
     * {@code java.sql.SQLException#SQLState}), the most derived class's first, in declaration order;
     * values are boxed primitives, strings or null. Empty when none travelled (a peer older than this
     * field, an exception without such fields). Unmodifiable.
     */
    public Map<String, Object> remoteFields() {
        return remoteFields == null ? Map.of() : remoteFields; // null in one serialized by a build without it
    }

    /**
     * The value of the remote exception's field {@code name} (as declared, without its class), from the
     * most derived class that has one that travelled; {@code null} when none did or its value was null.
     */
    public Object remoteField(String name) {
        for (Map.Entry<String, Object> e : remoteFields().entrySet()) {
            String key = e.getKey();
            int hash = key.lastIndexOf('#');
            if (key.length() - hash - 1 == name.length() && key.endsWith(name)) {
                return e.getValue();
            }
        }
        return null;
    }
}
