package io.jcircuit.runtime;

import io.jcircuit.codec.RefDescriptor;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Behind every reference proxy. {@code equals}, {@code hashCode} and {@code toString} are answered
 * from the descriptor without a call; default methods run locally on the proxy; every other method is
 * a call to the object's home runtime (which may be this one).
 */
final class RefHandler implements InvocationHandler {

    private final CircuitRuntime runtime;
    /** The object this reference was made for: its identity for equals and hashCode, whatever moves. */
    private final RefDescriptor target;
    /** Where calls go: {@link #target}, or the replacement it was hot-swapped to. */
    private volatile RefDescriptor current;
    /** The replacement's reference, held so that its exporter counts this runtime as a holder. */
    private volatile Object forward;
    private Object proxy;
    /**
     * Why this reference is gone, as its calls' error says it, or null while it holds: the session with
     * its home ended, and the home dropped this runtime's holds with it ({@link ImportTable#sessionEnded});
     * or its home could not be told that this runtime holds it ({@link #notHeld}).
     */
    private volatile String lost;
    /** Made by a lookup of a service: its name keeps the export at home, whatever happens to holds. */
    private volatile boolean named;

    RefHandler(CircuitRuntime runtime, RefDescriptor target) {
        this.runtime = runtime;
        this.target = target;
        this.current = target;
    }

    RefDescriptor target() {
        return target;
    }

    /** The runtime this reference's calls go out through. */
    CircuitRuntime runtime() {
        return runtime;
    }

    /** Where calls on this reference go now. */
    RefDescriptor current() {
        return current;
    }

    /**
     * The handler of the object this reference now stands for: this one, or after a hot swap the
     * replacement's (followed as far as it moved). A reference passed on is passed as that one.
     */
    RefHandler effective() {
        Object f = forward;
        return f == null ? this : ((RefHandler) Proxy.getInvocationHandler(f)).effective();
    }

    /**
     * The object moved to {@code replacement} in a hot swap: later calls go there. The reference keeps
     * its identity ({@code equals}, {@code hashCode}) and its type.
     */
    synchronized void moveTo(Object replacement, RefDescriptor to) {
        forward = replacement;
        current = to;
    }

    /**
     * The replacement at {@code from}, which this reference had moved to, died and left no record of a
     * move of its own: calls go to the object this reference was made for again, since a hot swap that
     * is rolled back after its forward serves the object there again. False when calls went elsewhere.
     */
    synchronized boolean moveBack(RefDescriptor from) {
        if (current != from || current == target) {
            return false;
        }
        current = target;
        forward = null;
        return true;
    }

    /** This reference came from a lookup of a service by name: its name keeps it, so it is never lost. */
    void named() {
        named = true;
        lost = null;
    }

    /**
     * The session with this reference's home ended for good, and the home released what this runtime
     * held: unless a service's name keeps it there, the object may be collected at any time, so calls
     * fail at once rather than work until it is. A reference received again later is a new one.
     *
     * @return whether the reference is now lost
     */
    boolean sessionEnded(String reason) {
        return lose("the session with worker " + target.home() + " ended (" + reason + "), and with it what"
            + " this runtime held there; a reference received from it again later works");
    }

    /**
     * Its home counts no hold of this reference for this runtime: the acquires that would have told it
     * could not be sent, however often tried ({@link ImportTable}). Unless a service's name keeps it
     * there, the object may be collected at any time, so calls fail at once rather than work until it
     * is. The same reference received or read again later is a new one, acquired again.
     *
     * @return whether the reference is now lost
     */
    boolean notHeld(String reason) {
        return lose(reason + "; the same reference received or read again later works");
    }

    private boolean lose(String why) {
        if (named) {
            return false;
        }
        lost = why;
        return true;
    }

    /**
     * Throws when calls on this reference can no longer reach its object: the session with the home of
     * the object it now stands for ended, with this runtime's holds ({@link #sessionEnded}), or that
     * home was never told that this runtime holds it ({@link #notHeld}).
     *
     * @throws WorkerDiedException naming the home and why the session ended; the call was not sent
     */
    void checkHeld() {
        RefHandler now = effective();
        String why = now.lost;
        if (why != null) {
            throw new io.jcircuit.WorkerDiedException(now.current.home(), false, "reference " + now.describe()
                + " is gone: " + why);
        }
    }

    /** This handler's proxy implementing {@code iface}, made once, so exporting twice gives the same object. */
    synchronized Object proxy(Class<?> iface) {
        if (proxy == null) {
            proxy = Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, this);
        }
        return proxy;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> args[0] != null && Proxy.isProxyClass(args[0].getClass())
                    && Proxy.getInvocationHandler(args[0]) instanceof RefHandler other
                    && sameObject(other.target);
                case "hashCode" -> Long.hashCode(target.handle()) * 31 + target.home().hashCode();
                case "toString" -> describe();
                default -> throw new IllegalStateException("unexpected Object method on a reference: " + method);
            };
        }
        if (method.isDefault()) {
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        return runtime.invoker().call(this, method, args == null ? NO_ARGS : args);
    }

    private static final Object[] NO_ARGS = new Object[0];

    private boolean sameObject(RefDescriptor other) {
        return other.handle() == target.handle() && other.home().equals(target.home());
    }

    private String describe() {
        RefDescriptor now = current;
        String moved = now == target ? "" : ", moved to " + now.home() + "#" + now.handle();
        return "ref(" + target.iface() + " @ " + target.home() + "#" + target.handle() + moved + ")";
    }
}
