package io.jcircuit.runtime.ops;

import one.profiler.AsyncProfiler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The async-profiler engine of {@link Profiler}.
 *
 * <p>The native profiler is one per JVM: {@link AsyncProfiler#getInstance()} hands every caller
 * the same object, and its native {@code start} refuses to start while a profile runs ("Profiler
 * already started"). That refusal is the guard against a second concurrent profile. It is atomic
 * in native code, and it also covers profiles this class did not start (an agent given on the
 * command line, another runtime in the JVM, a test). So this class keeps no state of its own about
 * who is profiling; after a failed start it asks the profiler for its status to tell "busy" apart
 * from "this event is not available here".
 */
final class AsyncProfilerEngine {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncProfilerEngine.class);

    private final AsyncProfiler profiler;
    private final Function<ProfileKind, List<String>> events;

    /**
     * @param events the events to try for each kind, best first; {@link #eventsFor} except in a
     *               test that makes the first choice fail to see the fallback work
     */
    AsyncProfilerEngine(AsyncProfiler profiler, Function<ProfileKind, List<String>> events) {
        this.profiler = profiler;
        this.events = events;
    }

    /**
     * The events to try for a kind, best first. CPU prefers perf_events ({@code cpu}), which need
     * {@code perf_event_open}; containers and {@code kernel.perf_event_paranoid} may forbid it, and
     * then {@code itimer} (setitimer and SIGPROF, no kernel frames) still works.
     */
    static List<String> eventsFor(ProfileKind kind) {
        return switch (kind) {
            case CPU -> List.of("cpu", "itimer");
            case ALLOC -> List.of("alloc");
            case LOCK -> List.of("lock");
            case WALL -> List.of("wall");
        };
    }

    /** Profiles for {@code duration} and has async-profiler write its HTML flame graph to {@code out}. */
    void profileToHtml(ProfileKind kind, Duration duration, Path out) throws IOException, InterruptedException {
        String file = out.toAbsolutePath().toString();
        // The command is a comma-separated option list, and '%' starts a pattern in file names.
        if (file.contains(",") || file.contains("%")) {
            throw new IllegalArgumentException("async-profiler cannot write to a path containing ',' or '%': " + file);
        }
        Session session = start(kind);
        boolean stopped = false;
        try {
            Thread.sleep(duration);
            long samples = profiler.getSamples();
            String title = Profiler.title(kind, "async-profiler [event " + session.event + "]", duration, samples)
                .replace(',', ';');
            execute("stop,flamegraph,file=" + file + ",title=" + title);
            stopped = true;
        } finally {
            if (!stopped) {
                stopQuietly();
            }
        }
    }

    /** Profiles for {@code duration} and returns the folded stacks. */
    CollapsedStacks profileCollapsed(ProfileKind kind, Duration duration) throws IOException, InterruptedException {
        start(kind);
        boolean stopped = false;
        try {
            Thread.sleep(duration);
            String collapsed = execute("stop,collapsed");
            stopped = true;
            return CollapsedStacks.parse(collapsed);
        } finally {
            if (!stopped) {
                stopQuietly();
            }
        }
    }

    private Session start(ProfileKind kind) throws IOException {
        List<String> failures = new ArrayList<>();
        Exception last = null;
        for (String event : events.apply(kind)) {
            try {
                execute("start,event=" + event);
                if (!failures.isEmpty()) {
                    LOG.warn("async-profiler profiles {} with event={} because {}", kind, event, failures);
                }
                return new Session(event);
            } catch (IllegalStateException | IllegalArgumentException e) {
                String status = status();
                if (!status.startsWith("Profiler is not active")) {
                    throw new IllegalStateException("a profile is already running in this JVM (async-profiler is one per"
                        + " JVM and says \"" + status.strip() + "\"); wait for it to end and try again", e);
                }
                failures.add("event=" + event + " failed: " + e.getMessage());
                last = e;
            }
        }
        throw new CannotProfile("async-profiler cannot profile " + kind + " here: " + failures, last);
    }

    private String status() {
        try {
            return execute("status");
        } catch (IOException | RuntimeException e) {
            return "status unknown: " + e.getMessage();
        }
    }

    /** Stops a profile that is still running after a failure; a failed stop command may already have stopped it. */
    private void stopQuietly() {
        try {
            if (!status().startsWith("Profiler is not active")) {
                execute("stop");
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not stop async-profiler after a failed profile", e);
        }
    }

    /**
     * Runs {@code command} with async-profiler's own messages ("[INFO] No samples were collected", "[WARN] ...")
     * written to a file of their own and passed on to this class's logger. Left alone, async-profiler writes
     * them to the process's stdout, the application's output (a worker's {@code circuit log --stdout}), and
     * it chooses where anew at every command: each one names the file.
     */
    private String execute(String command) throws IOException {
        Path messages = messageFile();
        if (messages == null) {
            return profiler.execute(command + ",loglevel=none");
        }
        try {
            return profiler.execute(command + ",log=" + messages);
        } finally {
            passOn(messages);
        }
    }

    /** A new file for async-profiler's messages; null when none can be made, or its path would not parse as an option. */
    private static Path messageFile() {
        try {
            Path f = java.nio.file.Files.createTempFile("jcircuit-async-profiler-", ".log");
            if (f.toString().contains(",") || f.toString().contains("%")) {
                java.nio.file.Files.deleteIfExists(f);
                return null;
            }
            return f;
        } catch (IOException | RuntimeException e) {
            LOG.debug("async-profiler's messages are dropped: no file for them ({})", e.toString());
            return null;
        }
    }

    /**
     * Logs what async-profiler wrote to {@code messages}, warnings and errors as warnings, and removes the
     * file. It keeps the file open until its next command; what it writes there meanwhile is lost.
     */
    private static void passOn(Path messages) {
        try {
            for (String line : java.nio.file.Files.readAllLines(messages, java.nio.charset.StandardCharsets.UTF_8)) {
                if (line.startsWith("[WARN]") || line.startsWith("[ERROR]")) {
                    LOG.warn("async-profiler: {}", line);
                } else if (!line.isBlank()) {
                    LOG.info("async-profiler: {}", line);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read async-profiler's messages in {}: {}", messages, e.toString());
        } finally {
            try {
                java.nio.file.Files.deleteIfExists(messages);
            } catch (IOException e) {
                LOG.debug("cannot remove {}: {}", messages, e.toString());
            }
        }
    }

    /** A profile this engine started, with the event async-profiler accepted. */
    private record Session(String event) {
    }

    /** Every event async-profiler could use for a kind failed to start: a JFR profile may stand in. */
    static final class CannotProfile extends IllegalStateException {
        CannotProfile(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
