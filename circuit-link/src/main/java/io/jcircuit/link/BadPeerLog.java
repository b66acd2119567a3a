package io.jcircuit.link;

import org.slf4j.Logger;

/**
 * The warnings about connections closed over bad input, at most {@link #PER_MINUTE} a minute for one
 * transport: a peer that opens thousands of bad connections must not flood the log (and push the
 * useful lines out of the ring {@code circuit log} reads). Past the limit, connections are counted,
 * and the count is logged with the next warning let through.
 */
final class BadPeerLog {

    static final int PER_MINUTE = 20;
    private static final long WINDOW_NANOS = 60_000_000_000L;

    private final Logger log;
    private final java.util.function.LongSupplier clock;
    private long windowStart;                     // guarded by this
    private int inWindow;                         // guarded by this
    private long suppressed;                      // guarded by this

    BadPeerLog(Logger log) {
        this(log, System::nanoTime);
    }

    /** With {@code clock} for {@link System#nanoTime}: for tests. */
    BadPeerLog(Logger log, java.util.function.LongSupplier clock) {
        this.log = log;
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
                    log.warn("more connections closed over bad input: counted, and logged at most {} a minute", PER_MINUTE);
                }
                return;
            }
            inWindow++;
            skipped = suppressed;
            suppressed = 0;
        }
        if (skipped > 0) {
            log.warn("{} closed: {} ({} more connections closed over bad input since the last such line)", who, reason, skipped);
        } else {
            log.warn("{} closed: {}", who, reason);
        }
    }
}
