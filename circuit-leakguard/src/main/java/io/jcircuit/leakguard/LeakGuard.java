package io.jcircuit.leakguard;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The leaks Netty reported in this JVM and not yet claimed by a test class.
 *
 * <p>Static on purpose: Netty's detectors are themselves JVM-wide (one per kind of resource, held in static fields
 * of its buffer classes), so there is exactly one set of them to collect from.
 */
final class LeakGuard {

    private static final Set<LeakGuardDetector<?>> DETECTORS = ConcurrentHashMap.newKeySet();
    private static final Queue<String> FOUND = new ConcurrentLinkedQueue<>();

    private LeakGuard() {
    }

    static void register(LeakGuardDetector<?> detector) {
        DETECTORS.add(detector);
    }

    static void found(String report) {
        FOUND.add(report);
    }

    /** Whether Netty builds its detectors through this guard in this JVM (none yet if no buffer was made). */
    static boolean active() {
        return !DETECTORS.isEmpty();
    }

    /**
     * Collects garbage, has every detector look at what was collected, and takes the reports found so far. A buffer
     * whose last reference went just now may be reported only by the next call: the JVM queues collected references
     * on a thread of its own.
     */
    static List<String> collect() {
        if (active()) {
            System.gc();
            for (LeakGuardDetector<?> detector : DETECTORS) {
                detector.poll();
            }
        }
        List<String> reports = new ArrayList<>();
        for (String report; (report = FOUND.poll()) != null; ) {
            reports.add(report);
        }
        return reports;
    }
}
