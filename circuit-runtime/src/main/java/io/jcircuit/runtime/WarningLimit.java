package io.jcircuit.runtime;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether to log one more warning of a kind that can come with every call (an interceptor that throws,
 * one that puts a context a call cannot carry): the first {@link #BURST}, then at most one per
 * {@link #INTERVAL_NANOS}, which says how many were left out since the one before. A bad interceptor on
 * a busy worker would otherwise write a warning per call.
 *
 * <p>One per interceptor and kind of warning, held by the runtime that registered it (never shared by
 * the runtimes of one JVM). <b>Threading:</b> any thread; {@link #admit} takes a lock, on a path that is
 * taken only when something is wrong.
 */
final class WarningLimit {

    /** How many are logged before the limit applies. */
    static final int BURST = 3;
    /** At most one per this long once {@link #BURST} were logged. */
    static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final LongSupplier nanoClock;
    private int logged;
    private long leftOut;
    private long lastNanos;

    /** @param nanoClock {@link System#nanoTime}, or a test's */
    WarningLimit(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /**
     * Null: leave this one out. Else log it, with the returned text (empty, or one that starts with
     * {@code "; "}) after its message: how many were left out before it, or that the next are limited.
     */
    synchronized String admit() {
        long now = nanoClock.getAsLong();
        if (logged >= BURST && now - lastNanos < INTERVAL_NANOS) {
            leftOut++;
            return null;
        }
        lastNanos = now;
        if (logged < BURST) {
            logged++;
            return logged == BURST ? "; more like it are logged at most once a minute" : "";
        }
        long before = leftOut;
        leftOut = 0;
        return before == 0 ? "" : "; " + before + " more like it were not logged since the last one";
    }
}
