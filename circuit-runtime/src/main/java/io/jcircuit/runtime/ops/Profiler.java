package io.jcircuit.runtime.ops;

import one.profiler.AsyncProfiler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Samples this JVM for a while and writes a flame graph: where the CPU time goes, what allocates,
 * or where threads wait for locks ({@link ProfileKind}).
 *
 * <p><b>Engines.</b> The constructor loads async-profiler (its native library ships in the
 * {@code tools.profiler:async-profiler} jar) and uses it when it loads: it sees native and JIT
 * frames, has no safepoint bias and writes its own HTML. Otherwise, or when built with
 * {@link #jfrOnly()}, the profiler records with JDK Flight Recorder and draws the graph with
 * {@link FlameGraphHtml}. {@link #engine()} says which, and {@link #unavailableReason()} why not
 * async-profiler. For a CPU profile async-profiler prefers perf_events and falls back to
 * {@code itimer} when the kernel or a container forbids them (logged as a warning).
 *
 * <p><b>One profile per JVM with async-profiler.</b> Async-profiler's native state is one per
 * process, shared by every runtime in the JVM. A second profile while one runs would stop or
 * overwrite the first, so it fails fast with an {@link IllegalStateException} ("a profile is
 * already running in this JVM ...") and the first carries on unharmed. The guard is async-profiler's
 * own refusal to start twice, not a field of this class: it is atomic, covers profiles started by
 * other code (an agent, another runtime's {@code Profiler}), and leaves no static state here. JFR
 * supports concurrent recordings, so JFR profiles may overlap.
 *
 * <p><b>Threading.</b> Instances are immutable and thread-safe; every profiling method blocks
 * the calling thread for the duration, so call it from a virtual thread or a worker, never from an
 * event loop. An interrupt stops the profile, writes nothing and throws
 * {@link InterruptedException}.
 */
public final class Profiler {

    /** The longest profile accepted; a longer one would hold the JVM-wide profiler for too long. */
    public static final Duration MAX_DURATION = Duration.ofMinutes(10);

    private static final String ASYNC_PROFILER = "async-profiler";
    private static final String JFR = "jfr";

    private final AsyncProfilerEngine async;
    private final String unavailableReason;
    private final JfrEngine jfr = new JfrEngine();

    /**
     * A profiler using async-profiler when its native library loads here, JFR otherwise. The first
     * construction in a JVM extracts and loads the library (a few hundred ms), and the first CPU
     * profile then reads the JVM's native symbols (about as long again); later ones start at once.
     */
    public Profiler() {
        this(AsyncProfilerEngine::eventsFor);
    }

    /** A profiler that tries these async-profiler events for each kind, best first (tests). */
    Profiler(Function<ProfileKind, List<String>> asyncEvents) {
        AsyncProfilerEngine loaded = null;
        String reason = null;
        try {
            // Loaded from a virtual thread, async-profiler later fails every start ("Could not find
            // VMThread bridge"): the library is always loaded on a platform thread.
            AsyncProfiler profiler = onPlatformThread(() -> {
                AsyncProfiler p = AsyncProfiler.getInstance();
                p.getVersion();
                return p;
            });
            loaded = new AsyncProfilerEngine(profiler, asyncEvents);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reason = "interrupted while loading async-profiler";
        } catch (IOException e) {
            reason = e.toString();
        } catch (LinkageError | RuntimeException e) {
            // UnsatisfiedLinkError (no library for this OS or CPU), IllegalCallerException (native
            // access denied), NoClassDefFoundError (jar missing at run time)...
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        this.async = loaded;
        this.unavailableReason = reason;
    }

    private Profiler(String forcedJfrReason) {
        this.async = null;
        this.unavailableReason = forcedJfrReason;
    }

    /** A profiler that always uses JFR, without trying to load async-profiler. */
    public static Profiler jfrOnly() {
        return new Profiler("not tried: the profiler was built with Profiler.jfrOnly()");
    }

    /** "async-profiler" or "jfr". */
    public String engine() {
        return async != null ? ASYNC_PROFILER : JFR;
    }

    /** Why async-profiler is not used, for example the UnsatisfiedLinkError of loading it; empty when it is used. */
    public Optional<String> unavailableReason() {
        return Optional.ofNullable(unavailableReason);
    }

    /**
     * Profiles this JVM for {@code duration}, then writes a self-contained HTML flame graph to
     * {@code out}, replacing the file if it exists and creating missing parent directories. The
     * page's title names the kind, engine, duration and sample count.
     *
     * <p>Blocks for {@code duration}, plus the time to write the graph.
     *
     * @return {@code out}
     * @throws IllegalStateException    if async-profiler is already profiling this JVM, or cannot
     *                                  profile this kind here
     * @throws IllegalArgumentException if the duration is not positive or exceeds {@link #MAX_DURATION},
     *                                  if JFR is asked for {@link ProfileKind#WALL}, or if async-profiler
     *                                  is asked to write to a path containing ',' or '%'
     * @throws InterruptedException     if interrupted; the profile is stopped and nothing is written
     */
    public Path profile(ProfileKind kind, Duration duration, Path out) throws IOException, InterruptedException {
        profileTo(kind, duration, out);
        return out;
    }

    /**
     * {@link #profile}, returning the engine that made the graph: async-profiler, or JFR when
     * async-profiler loaded but could start none of its events for this kind here (a kernel that
     * forbids perf_events and timers, an unsupported JVM), as long as JFR can profile the kind.
     */
    public String profileTo(ProfileKind kind, Duration duration, Path out) throws IOException, InterruptedException {
        check(kind, duration);
        Objects.requireNonNull(out, "out");
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (async != null) {
            try {
                onPlatformThread(() -> {
                    async.profileToHtml(kind, duration, out);
                    return null;
                });
                return ASYNC_PROFILER;
            } catch (AsyncProfilerEngine.CannotProfile e) {
                if (kind == ProfileKind.WALL) {
                    throw e;
                }
                org.slf4j.LoggerFactory.getLogger(Profiler.class).warn("{}; profiling with JFR instead", e.getMessage());
            }
        }
        CollapsedStacks stacks = jfr.record(kind, duration);
        Files.writeString(out, FlameGraphHtml.render(title(kind, JFR, duration, stacks.samples()), kind.unit(), stacks));
        return JFR;
    }

    /**
     * Profiles this JVM for {@code duration} and returns the folded stacks instead of a page. With
     * async-profiler a stack's weight is its sample count (for ALLOC and LOCK too); with JFR it is
     * in {@link ProfileKind#unit()}. Blocking, guard and failures as for {@link #profile}.
     */
    public CollapsedStacks collapsed(ProfileKind kind, Duration duration) throws IOException, InterruptedException {
        check(kind, duration);
        return async != null ? onPlatformThread(() -> async.profileCollapsed(kind, duration)) : jfr.record(kind, duration);
    }

    /** Work that may throw what a profile throws. */
    @FunctionalInterface
    private interface ProfileWork<T> {
        T run() throws IOException, InterruptedException;
    }

    /**
     * Runs {@code work} on a platform thread. Async-profiler refuses to start from a virtual thread
     * ("Could not find VMThread bridge"), and the ops service serves every call on one; an interrupt of
     * the caller is passed on, so the profile still stops early and writes nothing.
     */
    private static <T> T onPlatformThread(ProfileWork<T> work) throws IOException, InterruptedException {
        if (!Thread.currentThread().isVirtual()) {
            return work.run();
        }
        java.util.concurrent.FutureTask<T> task = new java.util.concurrent.FutureTask<>(work::run);
        Thread t = Thread.ofPlatform().daemon().name("circuit-profiler").start(task);
        try {
            return task.get();
        } catch (InterruptedException e) {
            t.interrupt();
            t.join();
            throw e;
        } catch (java.util.concurrent.ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case InterruptedException ie -> throw ie;
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
    }

    private static void check(ProfileKind kind, Duration duration) {
        Objects.requireNonNull(kind, "kind");
        if (duration.isNegative() || duration.isZero() || duration.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException("duration must be positive and at most " + MAX_DURATION + ": " + duration);
        }
    }

    /** "JCircuit flame graph - CPU - jfr - 2 s - 187 samples"; ASCII only, as async-profiler takes it on its command line. */
    static String title(ProfileKind kind, String engine, Duration duration, long samples) {
        long millis = duration.toMillis();
        String seconds = millis % 1000 == 0
            ? (millis / 1000) + " s"
            : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
        return "JCircuit flame graph - " + kind.name() + " - " + engine + " - " + seconds + " - " + samples + " samples";
    }
}
