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
     * {@link #isAsync asynchronous}.
     */
    record Target(MethodHandle handle, String display, boolean async) {
    }

    private static final MethodType INVOKER = MethodType.methodType(Object.class, Object.class, Object[].class);

    static Export of(long handle, Class<?> iface, Object impl) {
        Map<String, Target> methods = new HashMap<>();
        for (Method m : iface.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            methods.put(signature(m), new Target(invoker(iface, m), displayName(m.getDeclaringClass(), m), isAsync(m)));
        }
        return new Export(handle, iface, impl, Map.copyOf(methods), new Gate());
    }

    /** A handle of type {@code (Object target, Object[] args) Object}; it throws what the method throws. */
    private static MethodHandle invoker(Class<?> iface, Method m) {
        try {
            m.setAccessible(true); // interfaces need not be public to be exported
            return MethodHandles.lookup().unreflect(m).asFixedArity() // a varargs array arrives as the array it was
                .asSpreader(1, Object[].class, m.getParameterCount())
                .asType(INVOKER);
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
