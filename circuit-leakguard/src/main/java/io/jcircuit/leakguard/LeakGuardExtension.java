package io.jcircuit.leakguard;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class during or after which Netty found a buffer that was never released.
 *
 * <p>Registered for every test class by JUnit's extension auto-detection, which the build turns on. A leak is
 * found only once its buffer is collected, so it may show after the class that made it, in the next one; the
 * report says where the buffer was created (and where it was used, at Netty's {@code paranoid} level).
 */
public final class LeakGuardExtension implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) {
        check(context.getDisplayName());
    }

    /** Throws if Netty has reported leaks not yet claimed, naming the test class that ran last. */
    static void check(String testClass) {
        List<String> reports = LeakGuard.collect();
        if (!reports.isEmpty()) {
            throw new AssertionError("Netty reported " + reports.size() + " leaked resource(s) during or before "
                    + testClass + ":\n\n" + String.join("\n\n", reports));
        }
    }
}
