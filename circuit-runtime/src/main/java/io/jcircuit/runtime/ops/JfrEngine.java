package io.jcircuit.runtime.ops;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The JFR engine of {@link Profiler}: records with {@link Recording}, dumps the recording to a
 * temporary file (RecordingFile reads only files), folds the stacks of the events that belong to
 * the kind, and deletes the file.
 *
 * <p>JFR allows several recordings at once, so this engine lets profiles overlap. Recordings share
 * JFR's buffers, and a dump holds every event enabled by any recording during its time, which is
 * why {@link #fold} filters by event type.
 */
final class JfrEngine {

    static final Duration CPU_PERIOD = Duration.ofMillis(10);
    /** Allocation samples per second; JFR's "profile" settings take 300/s. */
    static final String ALLOC_THROTTLE = "500/s";
    /** Shorter blocks are not recorded, so that uncontended, brief parks cost nothing. */
    static final Duration LOCK_THRESHOLD = Duration.ofNanos(100_000);

    CollapsedStacks record(ProfileKind kind, Duration duration) throws IOException, InterruptedException {
        Path dump = null;
        try (Recording recording = new Recording()) {
            recording.setName("jcircuit-" + kind + "-profile");
            enable(recording, kind);
            recording.start();
            Thread.sleep(duration);
            recording.stop();
            dump = Files.createTempFile("jcircuit-profile-", ".jfr");
            recording.dump(dump);
            return fold(kind, dump);
        } finally {
            if (dump != null) {
                Files.deleteIfExists(dump);
            }
        }
    }

    private static void enable(Recording recording, ProfileKind kind) {
        switch (kind) {
            case CPU -> recording.enable("jdk.ExecutionSample").withPeriod(CPU_PERIOD).withStackTrace();
            case ALLOC -> recording.enable("jdk.ObjectAllocationSample").with("throttle", ALLOC_THROTTLE).withStackTrace();
            case LOCK -> {
                recording.enable("jdk.JavaMonitorEnter").withThreshold(LOCK_THRESHOLD).withStackTrace();
                recording.enable("jdk.ThreadPark").withThreshold(LOCK_THRESHOLD).withStackTrace();
            }
            case WALL -> throw new IllegalArgumentException(
                "a wall-clock profile needs async-profiler; JFR samples only threads running Java code");
        }
    }

    static CollapsedStacks fold(ProfileKind kind, Path dump) throws IOException {
        CollapsedStacks.Builder stacks = CollapsedStacks.builder();
        try (RecordingFile file = new RecordingFile(dump)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                long weight = weight(kind, event);
                RecordedStackTrace trace = event.getStackTrace();
                if (weight >= 0 && trace != null && !trace.getFrames().isEmpty()) {
                    stacks.add(frames(trace), weight);
                }
            }
        }
        return stacks.build();
    }

    /** The event's weight in the kind's unit, or -1 if the event does not belong to the kind. */
    private static long weight(ProfileKind kind, RecordedEvent event) {
        String type = event.getEventType().getName();
        return switch (kind) {
            case CPU -> type.equals("jdk.ExecutionSample") ? 1 : -1;
            case ALLOC -> type.equals("jdk.ObjectAllocationSample") ? event.getLong("weight") : -1;
            case LOCK -> switch (type) {
                case "jdk.JavaMonitorEnter" -> event.getDuration().toNanos();
                case "jdk.ThreadPark" -> isLockPark(event) ? event.getDuration().toNanos() : -1;
                default -> -1;
            };
            case WALL -> -1;
        };
    }

    /**
     * Whether a park waits for a lock rather than for work. A thread pool's idle workers park on a
     * condition ({@code AbstractQueuedSynchronizer$ConditionObject}) or in a latch, a queue or
     * {@code LockSupport.parkNanos} with no blocker at all; counting them would bury the contention
     * under idle time. Parks on the synchronizers of {@code java.util.concurrent.locks}, such as a
     * {@code ReentrantLock}, are contention and count.
     */
    private static boolean isLockPark(RecordedEvent event) {
        RecordedClass blocker = event.getValue("parkedClass");
        if (blocker == null) {
            return false;
        }
        String name = blocker.getName();
        return name.startsWith("java.util.concurrent.locks.") && !name.contains("ConditionObject");
    }

    /** The frames root first; JFR lists them leaf first and cuts deep stacks (64 frames by default). */
    private static List<String> frames(RecordedStackTrace trace) {
        List<RecordedFrame> leafFirst = trace.getFrames();
        List<String> rootFirst = new ArrayList<>(leafFirst.size() + 1);
        if (trace.isTruncated()) {
            rootFirst.add("[truncated]");
        }
        for (int i = leafFirst.size() - 1; i >= 0; i--) {
            RecordedFrame frame = leafFirst.get(i);
            rootFirst.add(frame.getMethod().getType().getName() + "." + frame.getMethod().getName());
        }
        return rootFirst;
    }
}
