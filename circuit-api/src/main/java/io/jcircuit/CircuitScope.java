package io.jcircuit;

/**
 * The scoped binding behind {@link Circuit#current()}. Runtimes bind it around the code they run for
 * others; applications only read it through {@code Circuit.current()}.
 *
 * <p>This is a key, not state: the value lives in each scope, so several runtimes share a JVM freely.
 */
public final class CircuitScope {

    /** Bound by a runtime to itself while it runs an incoming call or a {@code go} function. */
    public static final ScopedValue<Circuit> CURRENT = ScopedValue.newInstance();

    private CircuitScope() {
    }
}
