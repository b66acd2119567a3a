package io.jcircuit;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Deadline scopes. Every remote call has a deadline: the enclosing scope's, or, outside any scope,
 * the runtime's default call timeout. A call that is still waiting at its deadline fails with
 * {@link DeadlineExceededException}.
 *
 * <p>A scope travels with the call: the remote method (and a function sent with {@code go}) runs
 * inside a scope that ends when the caller's does, so nested calls on other workers stop waiting in
 * time too. Scopes nest and can only tighten: an inner scope that asks for more time than the outer
 * one has left gets the outer deadline.
 *
 * <pre>{@code
 * String s = Deadline.within(Duration.ofMillis(200), () -> service.slowLookup(key));
 * }</pre>
 *
 * <p><b>Note:</b> deadlines are read with {@link System#nanoTime()}, so they are immune to wall-clock
 * steps, and they are bound with a {@link ScopedValue}: they follow the code, not the thread.
 */
public final class Deadline {

    /** The absolute deadline, in {@link System#nanoTime()} units, of the current scope. */
    private static final ScopedValue<Long> DEADLINE_NANOS = ScopedValue.newInstance();

    private Deadline() {
    }

    /** Work run inside a deadline scope. */
    @FunctionalInterface
    public interface Op<T, X extends Throwable> {
        T run() throws X;
    }

    /**
     * Runs {@code op} with a deadline {@code timeout} from now, or the enclosing one if that is sooner.
     *
     * @throws IllegalArgumentException when {@code timeout} is negative
     */
    public static <T, X extends Throwable> T within(Duration timeout, Op<T, X> op) throws X {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("deadline timeout must not be negative: " + timeout);
        }
        return until(System.nanoTime() + saturatedNanos(timeout), op);
    }

    /**
     * Runs {@code op} with the deadline at {@code deadlineNanoTime} (a {@link System#nanoTime()}
     * value), or the enclosing one if that is sooner. Runtimes use this to re-establish a caller's
     * scope on the callee.
     */
    public static <T, X extends Throwable> T until(long deadlineNanoTime, Op<T, X> op) throws X {
        Objects.requireNonNull(op, "op");
        long effective = deadlineNanoTime;
        if (DEADLINE_NANOS.isBound() && DEADLINE_NANOS.get() - effective < 0) {
            effective = DEADLINE_NANOS.get();
        }
        return ScopedValue.where(DEADLINE_NANOS, effective).call(op::run);
    }

    /** The current scope's deadline as a {@link System#nanoTime()} value, if a scope is bound. */
    public static OptionalLong currentNanoTime() {
        return DEADLINE_NANOS.isBound() ? OptionalLong.of(DEADLINE_NANOS.get()) : OptionalLong.empty();
    }

    /** Nanoseconds left in the current scope (negative once passed), if a scope is bound. */
    public static OptionalLong remainingNanos() {
        return DEADLINE_NANOS.isBound()
            ? OptionalLong.of(DEADLINE_NANOS.get() - System.nanoTime())
            : OptionalLong.empty();
    }

    private static long saturatedNanos(Duration d) {
        try {
            return Math.min(d.toNanos(), Long.MAX_VALUE / 4);
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE / 4;
        }
    }
}
