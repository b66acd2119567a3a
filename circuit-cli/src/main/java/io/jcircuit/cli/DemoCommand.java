package io.jcircuit.cli;

import io.jcircuit.examples.wordcount.WordCount;
import io.jcircuit.examples.wordcount.Words;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code circuit demo}: the main job. A local circuit (a host daemon and ZooKeeper in this JVM,
 * workers as real JVMs) runs the streaming MapReduce of {@link WordCount} over the JDK's own
 * {@code lib/src.zip}, with a progress bar, then the single-process baseline for comparison.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, subcommands = DemoSwapCommand.class,
    description = {"Run the main job: a streaming multi-stage MapReduce that counts the identifiers in the JDK's own "
        + "lib/src.zip (about 213 MB of Java source) on worker JVMs of a local circuit, then the same count in one "
        + "thread for comparison. Leaves no process behind, also when interrupted."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--workers", paramLabel = "N",
        description = "Worker JVMs, each a mapper and a reducer (default: one per CPU, 2 to 8; here ${DEFAULT-VALUE}).")
    int workers = Math.clamp(Runtime.getRuntime().availableProcessors(), 2, 8);

    @Option(names = "--files", defaultValue = "2147483647", paramLabel = "N", hidden = true,
        description = "Count only the first N source files (for quick runs).")
    int files;

    @Option(names = "--cache", paramLabel = "DIR",
        description = "Where the demo's host keeps fetched jars and the workers' class archive (AppCDS) between runs,"
            + " so that later runs start their workers faster. Default: $CIRCUIT_DIR/cache or ~/.jcircuit/cache.")
    Path cache;

    @Option(names = "--json", description = "Print one JSON object instead of the report.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (workers < 1 || workers > 64) {
            throw new IllegalArgumentException("--workers " + workers + ": give 1 to 64");
        }
        Path zip = Path.of(System.getProperty("java.home"), "lib", "src.zip");
        if (!Files.isRegularFile(zip)) {
            throw new IllegalStateException("this JDK has no " + zip + "; the demo counts its sources (install the JDK's "
                + "source package, or run with a JDK that has lib/src.zip)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long total = Math.min(files, Words.count(zip));
        Path state = LocalDirs.create("jcircuit-demo-");
        Path caches = cache != null ? cache : NamespaceOptions.defaultStateDir(System.getenv()).resolve("cache");
        HostDaemon host;
        CircuitRuntime driver;
        try {
            host = HostDaemon.start(new HostDaemon.Config("local", state, null, null, 0, 0).withCacheDir(caches));
        } catch (RuntimeException e) {
            io.jcircuit.host.Dirs.deleteTree(state); // nothing ran: nothing to keep
            throw e;
        }
        try {
            driver = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
        } catch (RuntimeException e) {
            host.close(true);
            io.jcircuit.host.Dirs.deleteTree(state);
            throw e;
        }
        Thread cleanup = new Thread(() -> stop(driver, host, state, java.time.Duration.ZERO), "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C: no worker outlives the demo
        WordCount.Result r;
        long nanos;
        boolean ran = false;
        try {
            err.printf("local circuit: host 'local' at %s, ZooKeeper %s; %d worker JVMs, each a mapper and a reducer%n",
                host.address(), host.zookeeper(), workers);
            Bar bar = new Bar(err, total);
            long t0 = System.nanoTime();
            try {
                r = WordCount.run(driver, zip, workers, 20, files, bar::sent);
            } catch (Exception e) {
                err.println(); // the error goes on a line of its own, not after the bar
                err.flush();
                throw ShutdownHooks.jvmEnding() ? stopped(e) : e;
            }
            nanos = System.nanoTime() - t0;
            bar.done();
            ran = true;
        } finally {
            if (ShutdownHooks.unhook(cleanup)) {
                stop(driver, host, state, java.time.Duration.ofSeconds(10), ran ? null : err);
            }
        }
        err.println("single-process baseline...");
        long b0 = System.nanoTime();
        WordCount.Result base = Words.baseline(zip, files, 20);
        long baseNanos = System.nanoTime() - b0;
        if (base.tokens() != r.tokens() || !new ArrayList<>(base.top()).equals(new ArrayList<>(r.top()))) {
            throw new IllegalStateException("the circuit counted " + r.tokens() + " tokens, the baseline " + base.tokens());
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("files", r.files());
            o.put("bytes", r.bytes());
            o.put("tokens", r.tokens());
            o.put("top", r.top().stream().map(e -> List.of(e.getKey(), e.getValue())).toList());
            o.put("seconds", Math.round(nanos / 1e6) / 1e3);
            o.put("baseline_seconds", Math.round(baseNanos / 1e6) / 1e3);
            o.put("workers", workers);
            out.println(Json.write(o));
        } else {
            out.printf("%d files, %.1f MB, %d identifiers; the 20 most frequent:%n", r.files(), r.bytes() / 1e6, r.tokens());
            int rank = 1;
            for (Map.Entry<String, Long> e : r.top()) {
                out.printf("%4d. %-24s %,12d%n", rank++, e.getKey(), e.getValue());
            }
            out.printf("circuit: %.2f s with %d workers; single process: %.2f s; same counts%n",
                nanos / 1e9, workers, baseNanos / 1e9);
        }
        out.flush();
        return 0;
    }

    /** What a demo stopped by the JVM's end throws in place of what failed with it. */
    static IllegalStateException stopped(Throwable cut) {
        return new IllegalStateException("stopped; its local circuit and directory are removed", cut);
    }

    /**
     * Ends a demo's local circuit: its driver, its host with every worker, daemonized too, and its
     * files. Workers get up to {@code grace} to leave by themselves first, as they do once their
     * spawner is gone: the one told to write the class archive writes it as it leaves.
     */
    static void stop(CircuitRuntime driver, HostDaemon host, Path state, java.time.Duration grace) {
        stop(driver, host, state, grace, null);
    }

    /**
     * As {@link #stop(CircuitRuntime, HostDaemon, Path, java.time.Duration)}, but a demo that failed
     * ({@code failedTo} not null) keeps its directory, where the workers' stdout and stderr are, and
     * says so there: an error that names one of those files must not name a file already deleted.
     * The next demo removes it ({@link LocalDirs}).
     */
    static void stop(CircuitRuntime driver, HostDaemon host, Path state, java.time.Duration grace, PrintWriter failedTo) {
        driver.close();
        if (grace.isPositive()) {
            host.awaitWorkersExit(grace);
        }
        host.close(true);
        if (failedTo == null) {
            io.jcircuit.host.Dirs.deleteTree(state);
        } else {
            failedTo.println("kept " + state + " for the workers' logs (workers/*/stdout, stderr); the next demo removes it");
            failedTo.flush();
        }
    }

    /** A one-line progress bar on stderr: files, bytes and rate, redrawn at most every 200 ms. */
    private static final class Bar {
        private final PrintWriter err;
        private final long total;
        private final long start = System.nanoTime();
        private final AtomicLong files = new AtomicLong();
        private final AtomicLong bytes = new AtomicLong();
        private long lastDraw;

        Bar(PrintWriter err, long total) {
            this.err = err;
            this.total = Math.max(1, total);
        }

        void sent(int n, long size) {
            files.addAndGet(n);
            bytes.addAndGet(size);
            long now = System.nanoTime();
            if (now - lastDraw > 200_000_000L) {
                lastDraw = now;
                draw(now);
            }
        }

        private void draw(long now) {
            int width = 30;
            int filled = (int) (width * files.get() / total);
            double secs = Math.max(1e-9, (now - start) / 1e9);
            err.printf("\r[%s%s] %,d/%,d files  %.1f MB  %.1f MB/s ", "#".repeat(filled), ".".repeat(width - filled),
                files.get(), total, bytes.get() / 1e6, bytes.get() / 1e6 / secs);
            err.flush();
        }

        void done() {
            draw(System.nanoTime());
            err.println();
        }
    }
}
