package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.runtime.ops.FlameGraph;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code circuit profile}: CPU, allocation or lock profiles of live workers as HTML flame graphs, made
 * by async-profiler where it loads and by JFR otherwise. Several workers are profiled at once.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
    description = {"Profile selected workers and write a flame graph (HTML) for each.",
        "It uses async-profiler where its native library loads, JFR otherwise (see 'circuit peek' for which).",
        "One worker: the file is -o (default flame.html). Several: -o is a directory (default .), one flame-<id>.html each.",
        "Example: circuit profile --cpu --seconds 10 -o cpu.html /sumr/R0123456789abcdef"})
final class ProfileCommand extends WorkerVerb implements Callable<Integer> {


    static final class Kind {
        @Option(names = "--cpu", description = "Where CPU time goes (default).")
        boolean cpu;
        @Option(names = "--alloc", description = "Where memory is allocated.")
        boolean alloc;
        @Option(names = "--lock", description = "Where threads wait for locks.")
        boolean lock;
        @Option(names = "--wall", description = "Where threads spend wall-clock time, running or not (async-profiler only).")
        boolean wall;
    }

    @ArgGroup(exclusive = true)
    Kind kind;

    @Option(names = "--seconds", defaultValue = "10", paramLabel = "N", description = "How long to profile, 1 to 600 (default 10).")
    int seconds;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write the flame graph(s): a file, replaced if it is there (one worker), or a directory, "
        + "where each worker's is flame-R<id>.html. Default: flame.html, or flame-R<id>.html for several workers, in the working directory.")
    Path output;

    @Option(names = "--json", description = "Print what was written as JSON instead of text (no progress bar).")
    boolean json;


    @Override
    public Integer call() throws Exception {
        if (seconds < 1 || seconds > 600) {
            throw new IllegalArgumentException("--seconds must be 1 to 600, not " + seconds);
        }
        String k = kind == null || kind.cpu ? "cpu" : kind.alloc ? "alloc" : kind.lock ? "lock" : "wall";
        PrintWriter out = spec.commandLine().getOut();
        try (WorkerOps w = open()) {
            List<Entry> workers = w.select(selector);
            for (Entry e : workers) {
                WorkerOps.checkWritable(target(workers.size(), e)); // before the workers profile for nothing
            }
            Map<Entry, Future<FlameGraph>> running = new LinkedHashMap<>();
            try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (Entry e : workers) {
                    running.put(e, pool.submit(() -> w.call(e, Duration.ofSeconds(seconds + 60L), ops -> ops.profile(k, seconds))));
                }
                Progress bar = new Progress(spec.commandLine().getErr(), "profiling " + workers.size() + " worker(s), " + k,
                    json);
                long start = System.nanoTime();
                long total = seconds * 1000L;
                for (Future<FlameGraph> f : running.values()) {
                    while (true) {
                        long el = (System.nanoTime() - start) / 1_000_000;
                        bar.show(Math.min(el, total), total, Math.min(el / 1000, seconds) + "/" + seconds + " s");
                        try {
                            f.get(200, TimeUnit.MILLISECONDS);
                            break;
                        } catch (TimeoutException notYet) {
                            // redraw the countdown
                        } catch (ExecutionException ignored) {
                            break; // reported below
                        }
                    }
                }
                // a worker that could not be asked fails at once: the bar stops where the time did
                long failures = running.values().stream().filter(f -> f.state() == Future.State.FAILED).count();
                long el = Math.min(total, (System.nanoTime() - start) / 1_000_000);
                bar.end(failures == 0 ? total : el, total, (failures == 0 ? seconds : el / 1000) + "/" + seconds + " s"
                    + (failures == 0 ? "" : ", " + failures + " failed"));
            }
            List<Object> written = new ArrayList<>();
            int failed = 0;
            for (var r : running.entrySet()) {
                Entry e = r.getKey();
                try {
                    FlameGraph g = r.getValue().get();
                    Path file = target(workers.size(), e);
                    Files.write(file, g.html());
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("worker", e.worker().toString());
                    m.put("file", file.toAbsolutePath().toString());
                    m.put("kind", g.kind());
                    m.put("engine", g.engine());
                    m.put("seconds", g.seconds());
                    m.put("bytes", g.html().length);
                    written.add(m);
                    if (!json) {
                        out.println(e.worker() + ": " + g.kind() + " flame graph (" + g.engine() + ", " + g.seconds() + " s) -> " + file);
                    }
                } catch (ExecutionException ex) {
                    failed++;
                    spec.commandLine().getErr().println("circuit profile: " + e.worker() + ": " + WorkerOps.why(ex.getCause()));
                } catch (IOException ex) {
                    throw new UncheckedIOException("cannot write the flame graph of " + e.worker() + ": "
                        + ex.getClass().getSimpleName() + ": " + ex.getMessage(), ex); // a bare path says nothing
                }
            }
            if (json) {
                out.println(Json.write(Map.of("profiles", written)));
            }
            out.flush();
            return failed == 0 ? 0 : 1;
        }
    }

    private Path target(int count, Entry e) throws IOException {
        if (count == 1) {
            Path f = output != null ? output : Path.of("flame.html");
            if (Files.isDirectory(f)) {
                f = f.resolve("flame-" + e.worker() + ".html");
            }
            return f;
        }
        Path dir = output != null ? output : Path.of(".");
        try {
            Files.createDirectories(dir);
        } catch (IOException ex) {
            throw new IllegalArgumentException("cannot make the directory " + dir + " for the flame graphs: " + ex, ex);
        }
        return dir.resolve("flame-" + e.worker() + ".html");
    }
}
