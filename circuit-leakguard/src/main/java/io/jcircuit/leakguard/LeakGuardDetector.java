package io.jcircuit.leakguard;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;

/**
 * Netty's leak detector, keeping what it reports for {@link LeakGuardExtension} as well as logging it.
 *
 * <p>Netty builds one detector per kind of resource (buffers, some handlers' state) through its
 * {@code io.netty.customResourceLeakDetector} property, which the build sets for every test JVM together with a
 * sampling interval of 1: every buffer is tracked, not one in 128, and a report says where it was created (and, at
 * Netty's {@code paranoid} level, where it was used). Netty finds a leak only when the buffer has been collected and
 * it next tracks something of the same kind; {@link #poll()} makes it look.
 *
 * @param <T> the kind of resource tracked
 */
public final class LeakGuardDetector<T> extends ResourceLeakDetector<T> {

    /** Called by Netty's leak detector factory, reflectively. */
    public LeakGuardDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        LeakGuard.register(this);
    }

    /**
     * The constructor of Netty's older API, which its factory looks up too, first: without it, every JVM that
     * tracks buffers logged an error with a stack trace ("Could not load custom resource leak detector class"),
     * though the factory then built the guard through the other constructor. {@code maxActive} was never used
     * by Netty's detector.
     */
    @Deprecated
    public LeakGuardDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /** Reports whatever Netty has found collected and unreleased since it last looked. */
    @SuppressWarnings("unchecked")
    void poll() {
        T probe = (T) new Object();
        ResourceLeakTracker<T> tracker = trackForcibly(probe); // looks at the collected ones first
        tracker.close(probe);
    }

    /** Report even when Netty's own logger is off: the guard must not depend on a test's logging set-up. */
    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LeakGuard.found(resourceType + " was not released before it was collected. Where it was created and used:"
                + withoutRunnerFrames(records));
        super.reportTracedLeak(resourceType, records);
    }

    /** The records' stack frames without those of JUnit and of reflection, which follow every test's own. */
    static String withoutRunnerFrames(String records) {
        StringBuilder kept = new StringBuilder(records.length() / 4);
        for (String line : records.split("\n")) {
            String frame = line.strip();
            if (!frame.startsWith("org.junit.") && !frame.startsWith("org.apache.maven.surefire.")
                    && !frame.startsWith("java.base/jdk.internal.reflect.")
                    && !frame.startsWith("java.base/java.lang.reflect.")
                    && !frame.startsWith("java.base/java.util.ArrayList.forEach")) {
                kept.append(line).append('\n');
            }
        }
        return kept.toString();
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LeakGuard.found(resourceType + " was not released before it was collected (Netty kept no record of where)");
        super.reportUntracedLeak(resourceType);
    }
}
