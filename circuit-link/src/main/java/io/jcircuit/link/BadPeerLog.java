package io.jcircuit.link;

import org.slf4j.Logger;

/**
 * The warnings about connections closed over bad input, at most {@link #PER_MINUTE} a minute for one
 * transport: a peer that opens thousands of bad connections must not flood the log (and push the
 * useful lines out of the ring {@code circuit log} reads). Past the limit, connections are counted,
 * and the count is logged with the next warning let through. A transport keeps another one for the
 * connections it closes because too many wait for their handshake ({@link PendingConnections}), so
 * that a flood of those does not use up the lines of the first.
 */
final class BadPeerLog {

    static final int PER_MINUTE = 20;
    private static final long WINDOW_NANOS = 60_000_000_000L;

    private final Logger log;
    /** Why the connections counted were closed, as the summary lines say it: "over bad input". */
    private final String why;
    private final java.util.function.LongSupplier clock;
    private long windowStart;                     // guarded by this
    private int inWindow;                         // guarded by this
    private long suppressed;                      // guarded by this

    BadPeerLog(Logger log) {
        this(log, "over bad input");
    }

    /** {@code why}: why the connections are closed, for the summary lines ("over bad input"). */
    BadPeerLog(Logger log, String why) {
        this(log, why, System::nanoTime);
    }

    /** With {@code clock} for {@link System#nanoTime}: for tests. */
    BadPeerLog(Logger log, java.util.function.LongSupplier clock) {
        this(log, "over bad input", clock);
    }

    private BadPeerLog(Logger log, String why, java.util.function.LongSupplier clock) {
        this.log = log;
        this.why = why;
        this.clock = clock;
        this.windowStart = clock.getAsLong();
    }

    /** Logs {@code "{who} closed: {reason}"} at warning level, unless the minute's lines are used up. */
    void closed(Object who, String reason) {
        long skipped;
        synchronized (this) {
            long now = clock.getAsLong();
            if (now - windowStart >= WINDOW_NANOS) {
                windowStart = now;
                inWindow = 0;
            }
            if (inWindow >= PER_MINUTE) {
                if (suppressed++ == 0) {
                    log.warn("more connections closed {}: counted, and logged at most {} a minute", why, PER_MINUTE);
                }
                return;
            }
            inWindow++;
            skipped = suppressed;
            suppressed = 0;
        }
        if (skipped > 0) {
            log.warn("{} closed: {} ({} more connections closed {} since the last such line)", who, reason, skipped, why);
        } else {
            log.warn("{} closed: {}", who, reason);
        }
    }
}
