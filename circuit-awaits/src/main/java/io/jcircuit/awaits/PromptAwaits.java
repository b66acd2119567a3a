package io.jcircuit.awaits;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.pollinterval.PollInterval;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Makes Awaitility check a condition at once and then poll quickly, instead of first waiting a fixed 100 ms.
 *
 * <p>Awaitility's defaults wait one poll interval, 100 ms, before the first check, and 100 ms between checks, so a
 * wait whose condition already holds still costs 100 ms, and one that comes true just after a check costs up to
 * 100 ms more. The tests wait that way some hundreds of times. Here the first check is immediate and the interval
 * starts at {@link #FIRST} and doubles up to {@link #LONGEST}, Awaitility's own interval, so a long wait polls no
 * more often than before. A wait that sets its own delay or interval keeps them.
 *
 * <p>Registered for every test class by JUnit's extension auto-detection, which the build turns on. The defaults
 * are process-wide; setting them again before each class is cheap and keeps them in place even if a test resets
 * Awaitility.
 */
public final class PromptAwaits implements BeforeAllCallback {

    /** The first interval between two checks. */
    static final Duration FIRST = Duration.ofMillis(10);
    /** The longest interval between two checks: Awaitility's default. */
    static final Duration LONGEST = Duration.ofMillis(100);
    /** {@link #FIRST} after the first check, doubling after each one up to {@link #LONGEST}. */
    static final PollInterval INTERVAL = (pollCount, previous) ->
        pollCount >= 5 ? LONGEST : min(FIRST.multipliedBy(1L << Math.max(0, pollCount - 1)), LONGEST);

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
    }

    /** Sets Awaitility's process-wide defaults: no delay before the first check, then {@link #INTERVAL}. */
    static void install() {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(INTERVAL);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
