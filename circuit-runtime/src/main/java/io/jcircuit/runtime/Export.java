package io.jcircuit.runtime;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * One exported object: its handle, the interface it is exported as, and that interface's methods by
 * {@link #signature(Method) signature}. Methods are found by name and parameter types, never by class
 * identity, so a caller built from another version of the interface still reaches them.
 */
record Export(long handle, Class<?> iface, Object impl, Map<String, Target> methods, Gate gate) {

    /**
     * One method: the handle that runs it, its name for metrics and interceptors, and whether it is
     * {@link #isAsync asynchronous}. The method's own handle is looked up when it is exported, so that an
     * inaccessible method fails the export; the handle a call runs ({@link #handle}), which spreads the
     * arguments and erases the types, is made at the method's first call. Making it spins method-handle
     * classes that no class archive holds, and exporting the ops service made them for all of its methods in
     * every runtime's start: 53 of a cold worker's 115, for methods that most workers are never asked
     * (docs/performance.md).
     */
    static final class Target {
        private final MethodHandle direct;
        private final int parameters;
        private final String display;
        private final boolean async;
        /** Made at the first call; two first calls at once may each make one, and either serves. */
        private volatile MethodHandle handle;

        Target(MethodHandle direct, int parameters, String display, boolean async) {
            this.direct = direct;
            this.parameters = parameters;
            this.display = display;
            this.async = async;
        }

        /** A handle of type {@code (Object target, Object[] args) Object}; it throws what the method throws. */
        MethodHandle handle() {
            MethodHandle h = handle;
            if (h == null) {
                h = direct.asSpreader(1, Object[].class, parameters).asType(INVOKER);
                handle = h;
            }
            return h;
        }

        String display() {
            return display;
        }

        boolean async() {
            return async;
        }
    }

    private static final MethodType INVOKER = MethodType.methodType(Object.class, Object.class, Object[].class);

    static Export of(long handle, Class<?> iface, Object impl) {
        Map<String, Target> methods = new HashMap<>();
        for (Method m : iface.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            methods.put(signature(m), new Target(direct(iface, m), m.getParameterCount(),
                displayName(m.getDeclaringClass(), m), isAsync(m)));
        }
        return new Export(handle, iface, impl, Map.copyOf(methods), new Gate());
    }

    /** The method's own handle, of its own type; fails when the method cannot be reached. */
    private static MethodHandle direct(Class<?> iface, Method m) {
        try {
            m.setAccessible(true); // interfaces need not be public to be exported
            return MethodHandles.lookup().unreflect(m).asFixedArity(); // a varargs array arrives as the array it was
        } catch (IllegalAccessException | RuntimeException e) {
            throw new IllegalArgumentException("cannot export " + iface.getName() + ": method " + m.getName()
                + " is not accessible (" + e.getMessage() + ")", e);
        }
    }

    /** {@code Iface.name(Type,Type)} with simple names: how metrics, interceptors and the tools show a method. */
    static String displayName(Class<?> iface, Method m) {
        StringBuilder sb = new StringBuilder(iface.getSimpleName()).append('.').append(m.getName()).append('(');
        Class<?>[] params = m.getParameterTypes();
        for (int i = 0; i < params.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(params[i].getSimpleName());
        }
        return sb.append(')').toString();
    }

    /**
     * True for a method declared to return {@link java.util.concurrent.CompletableFuture},
     * {@link java.util.concurrent.CompletionStage} or {@link java.util.concurrent.Future}: a call returns
     * a future at once, and the answer carries the value the implementation's future completes with.
     */
    static boolean isAsync(Method m) {
        Class<?> r = m.getReturnType();
        return r != Object.class && r.isAssignableFrom(java.util.concurrent.CompletableFuture.class);
    }

    /** {@code name(type,type)} with binary class names, e.g. {@code add(int,java.lang.String)}. */
    static String signature(Method m) {
        StringBuilder sb = new StringBuilder(m.getName()).append('(');
        Class<?>[] params = m.getParameterTypes();
        for (int i = 0; i < params.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(params[i].getName());
        }
        return sb.append(')').toString();
    }
}
