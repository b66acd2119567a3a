package io.jcircuit.runtime.ops;

import io.jcircuit.Address;
import io.jcircuit.Circuit;
import io.jcircuit.CircuitException;
import io.jcircuit.Fn;
import io.jcircuit.Swappable;

import java.io.Serial;
import java.util.List;

/**
 * The replacement's side of a hot swap, run on the worker that takes the service over (spawned on the
 * new code, or an existing one with {@code go}):
 * <ol>
 *   <li>makes the new object: {@code implClass} as this worker's code has it, by its no-argument constructor;</li>
 *   <li>asks the old worker to freeze the service and drain it ({@link Ops#swapFreeze}), restores the state
 *       it hands over, and runs the new object's health check ({@link Swappable});</li>
 *   <li>listens under the service's name and files itself under the old worker's anchors;</li>
 *   <li>has the old worker forward the service here ({@link Ops#swapForward}): its callers follow.</li>
 * </ol>
 * Any failure after the freeze rolls back: the old worker serves again ({@link Ops#swapAbort}) and
 * this one serves nothing. New code whose class is not {@link Swappable} is refused when the old object
 * hands over state, which it would drop. Returns this worker's id and whether state was handed over.
 *
 * @param oldAddress  the worker being replaced
 * @param service     the service's name there
 * @param iface       the interface it is served as
 * @param implClass   the class serving it, looked up in this worker's code
 * @param anchors     the directories to file the replacement under
 * @param drainMillis how long the old worker may take to finish the calls it is running
 * @param methods     the methods the old worker's callers can call ({@link OpsInfo.ServiceType#methods}),
 *                    every one of which the new code's interface must have; null to skip that check
 * @param metadata    per directory of {@code anchors}, the metadata the old worker filed itself with there
 *                    (its own, not its code version): the replacement's entry carries the same
 */
public record SwapIn(String oldAddress, String service, String iface, String implClass, List<String> anchors,
                     long drainMillis, List<String> methods, java.util.Map<String, java.util.Map<String, String>> metadata)
    implements Fn<SwapIn.Taken> {

    @Serial
    private static final long serialVersionUID = 1L;

    public SwapIn {
        metadata = metadata == null ? java.util.Map.of() : java.util.Map.copyOf(metadata);
    }

    /**
     * What a swap-in did: the worker that took the service over, and whether the old object handed over
     * its state ({@link Swappable#snapshot}); without it, the new object starts as its constructor made it.
     */
    public record Taken(String worker, boolean stateHandedOver) implements java.io.Serializable {
    }

    @Override
    public Taken call() throws Exception {
        Circuit here = Circuit.current();
        ClassLoader loader = SwapIn.class.getClassLoader();
        Class<?> type;
        try {
            type = Class.forName(iface, true, loader);
        } catch (ClassNotFoundException e) {
            throw new CircuitException("cannot swap service '" + service + "': the new code has no interface " + iface
                + ", which the service is served as", e);
        }
        if (methods != null) {
            java.util.Set<String> served = new java.util.HashSet<>(io.jcircuit.runtime.CircuitRuntime.remoteMethods(type));
            List<String> missing = methods.stream().filter(m -> !served.contains(m)).toList();
            if (!missing.isEmpty()) {
                throw new CircuitException("cannot swap service '" + service + "': the new code's " + iface
                    + " lacks " + String.join(", ", missing) + ", which callers of the old one may call (a call finds"
                    + " its method by name and parameter types); keep the old methods beside new ones");
            }
        }
        Class<?> implType;
        try {
            implType = Class.forName(implClass, true, loader);
        } catch (ClassNotFoundException e) {
            throw new CircuitException("cannot swap service '" + service + "': the new code has no class " + implClass, e);
        }
        java.lang.reflect.Constructor<?> constructor;
        try {
            constructor = implType.getDeclaredConstructor();
        } catch (NoSuchMethodException e) {
            boolean capturing = implType.isAnonymousClass()
                || (implType.getEnclosingClass() != null && !java.lang.reflect.Modifier.isStatic(implType.getModifiers()));
            throw new CircuitException("cannot swap service '" + service + "': its class " + implClass + " has no constructor"
                + " without arguments, so the new code cannot make one" + (capturing ? " (an anonymous or inner class captures"
                + " what it was made with; export a top-level or static nested class to make a service swappable)" : ""), e);
        }
        constructor.setAccessible(true); // the class need not be public, as exported objects need not be
        Object impl = constructor.newInstance();
        if (!type.isInstance(impl)) {
            throw new CircuitException(implClass + " in the new code does not implement " + iface);
        }
        Ops old = here.dial(Address.parse(oldAddress), Ops.SERVICE, Ops.class);
        Object state = old.swapFreeze(service, drainMillis);
        boolean listening = false;
        try {
            if (impl instanceof Swappable s) {
                if (state != null) {
                    s.restore(state);
                }
                s.checkHealth(); // throws to refuse: the old version serves on
            } else if (state != null) {
                throw new CircuitException("cannot swap service '" + service + "': the old object handed over its state"
                    + " (a " + state.getClass().getName() + "), but the new code's " + implClass + " is not Swappable,"
                    + " so it would start without it; implement Swappable.restore in the new code");
            }
            Object ref = listen(here, type, impl);
            listening = true;
            for (String a : anchors) {
                here.anchors().file(a, metadata.getOrDefault(a, java.util.Map.of()));
            }
            old.swapForward(service, ref);
            return new Taken(here.id().toString(), state != null);
        } catch (Exception | Error e) {
            if (listening) {
                here.unlisten(service);
            }
            try {
                old.swapAbort(service);
            } catch (RuntimeException alsoFailed) {
                e.addSuppressed(alsoFailed);
            }
            throw e;
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object listen(Circuit here, Class type, Object impl) {
        return here.listen(service, type, impl);
    }
}
