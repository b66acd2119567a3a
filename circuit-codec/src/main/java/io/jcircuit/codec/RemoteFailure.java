package io.jcircuit.codec;

import io.jcircuit.RemoteException;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An exception described for the wire: class name, message and stack, and its cause, described the
 * same way. Exceptions travel as descriptions rather than serialized objects so that any exception,
 * serializable or not, reaches the caller, and one whose class the caller lacks still arrives.
 *
 * @param className  the remote exception's class
 * @param message    its message, possibly {@code null}
 * @param frames     its stack, innermost first
 * @param cause      its cause, or {@code null}
 */
public record RemoteFailure(String className, String message, Frame[] frames, RemoteFailure cause) {

    /** Causes nest at most this deep on the wire; deeper ones are cut. */
    private static final int MAX_CAUSE_DEPTH = 8;

    /** One stack frame. */
    public record Frame(String declaringClass, String methodName, String fileName, int lineNumber) {
        StackTraceElement toElement() {
            return new StackTraceElement(declaringClass, methodName, fileName, lineNumber);
        }
    }

    /** Describes {@code t} and up to {@value #MAX_CAUSE_DEPTH} of its causes. */
    public static RemoteFailure describe(Throwable t) {
        return describe(t, 0);
    }

    private static RemoteFailure describe(Throwable t, int depth) {
        StackTraceElement[] stack = t.getStackTrace();
        Frame[] frames = new Frame[stack.length];
        for (int i = 0; i < stack.length; i++) {
            StackTraceElement e = stack[i];
            frames[i] = new Frame(e.getClassName(), e.getMethodName(), e.getFileName(), e.getLineNumber());
        }
        Throwable cause = t.getCause();
        RemoteFailure c = cause == null || cause == t || depth >= MAX_CAUSE_DEPTH ? null : describe(cause, depth + 1);
        String message = t instanceof RemoteException re ? re.remoteMessage() : t.getMessage();
        String className = t instanceof RemoteException re ? re.remoteClassName() : t.getClass().getName();
        return new RemoteFailure(className, message, frames, c);
    }

    /**
     * Rebuilds the exception for the caller: an instance of the original class when {@code loader}
     * can load it and it has a {@code (String)}, {@code (String, Throwable)} or {@code ()}
     * constructor, otherwise a {@link RemoteException}. The stack is the remote frames, a marker frame
     * naming {@code where}, then {@code localFrames}.
     */
    public Throwable rebuild(ClassLoader loader, String where, StackTraceElement[] localFrames) {
        Throwable cause = this.cause == null ? null : this.cause.rebuild(loader, where, new StackTraceElement[0]);
        Throwable t = instantiate(loader, cause);
        List<StackTraceElement> stack = new ArrayList<>(frames.length + 1 + localFrames.length);
        for (Frame f : frames) {
            stack.add(f.toElement());
        }
        if (localFrames.length > 0) {
            stack.add(new StackTraceElement("<circuit>", "<" + where + ">", null, -1));
            stack.addAll(Arrays.asList(localFrames));
        }
        t.setStackTrace(stack.toArray(StackTraceElement[]::new));
        return t;
    }

    private Throwable instantiate(ClassLoader loader, Throwable cause) {
        try {
            Class<?> c = Class.forName(className, false, loader);
            if (Throwable.class.isAssignableFrom(c) && !RemoteException.class.isAssignableFrom(c)) {
                Throwable t = construct(c.asSubclass(Throwable.class), cause);
                if (t != null) {
                    return t;
                }
            }
        } catch (ClassNotFoundException | LinkageError notHere) {
            // fall through: the caller gets a RemoteException that names the class
        }
        return new RemoteException(className, message, cause);
    }

    private Throwable construct(Class<? extends Throwable> c, Throwable cause) {
        try {
            Constructor<? extends Throwable> k = c.getConstructor(String.class, Throwable.class);
            return k.newInstance(message, cause);
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // try the next shape
        }
        if (cause != null) {
            // (String, a narrower cause), such as UncheckedIOException(String, IOException)
            for (Constructor<?> k : c.getConstructors()) {
                Class<?>[] p = k.getParameterTypes();
                if (p.length == 2 && p[0] == String.class && Throwable.class.isAssignableFrom(p[1]) && p[1].isInstance(cause)) {
                    try {
                        return (Throwable) k.newInstance(message, cause);
                    } catch (ReflectiveOperationException | RuntimeException ignored) {
                        // try the next one
                    }
                }
            }
        }
        try {
            Throwable t = c.getConstructor(String.class).newInstance(message);
            if (cause != null && t.getCause() == null) {
                t.initCause(cause);
            }
            return t;
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // try the next shape
        }
        if (message == null) {
            try {
                Throwable t = c.getConstructor().newInstance();
                if (cause != null && t.getCause() == null) {
                    t.initCause(cause);
                }
                return t;
            } catch (ReflectiveOperationException | RuntimeException ignored) {
                // give up: RemoteException
            }
        }
        return null;
    }
}
