package io.jcircuit.cli;

import io.jcircuit.Chan;
import io.jcircuit.ChanClosedException;
import io.jcircuit.Entry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/** {@code circuit log}: the recent log lines of live workers, and with {@code -f} every new one. */
@Command(name = "log", mixinStandardHelpOptions = true,
    description = {"Print the last log lines of selected workers; with -f, keep printing new ones (Ctrl-C stops).",
        "With several workers each line starts with the worker's short id.",
        "Example: circuit log -n 50 /sumr/...   circuit log -f /worker/R0123456789abcdef"})
final class LogCommand extends WorkerVerb implements Callable<Integer> {


    @Option(names = {"-n", "--lines"}, defaultValue = "100", paramLabel = "N", description = "How many recent lines (default 100).")
    int lines;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines.")
    boolean follow;

    @Option(names = "--for", paramLabel = "SECONDS", description = "With -f: stop after this many seconds (default: until Ctrl-C).")
    Long forSeconds;

    @Option(names = "--json", description = "One JSON object per line: {\"worker\":…, \"line\":…}.")
    boolean json;


    @Override
    public Integer call() {
        if (lines < 1) {
            throw new IllegalArgumentException("-n must be at least 1, not " + lines);
        }
        if (forSeconds != null && forSeconds < 1) {
            throw new IllegalArgumentException("--for must be at least 1 second, not " + forSeconds);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            List<Entry> workers = w.select(selector);
            boolean prefix = workers.size() > 1;
            if (!follow) {
                int failed = 0;
                for (Entry e : workers) {
                    try {
                        for (String l : w.call(e, Duration.ofSeconds(10), ops -> ops.logTail(lines))) {
                            print(out, e, l, prefix);
                        }
                    } catch (RuntimeException ex) {
                        failed++;
                        spec.commandLine().getErr().println("circuit log: " + e.worker() + ": " + WorkerOps.why(ex));
                    }
                }
                out.flush();
                return failed == 0 ? 0 : 1;
            }
            List<Chan<String>> sinks = new ArrayList<>();
            for (Entry e : workers) {
                Chan<String> sink = w.client().makeChan(1024);
                w.call(e, Duration.ofSeconds(10), ops -> {
                    ops.logFollow(sink, lines);
                    return null;
                });
                sinks.add(sink);
            }
            long end = forSeconds == null ? Long.MAX_VALUE : System.nanoTime() + forSeconds * 1_000_000_000L;
            boolean[] ended = new boolean[workers.size()];
            int left = workers.size();
            long nextLook = System.nanoTime() + LIVENESS_NANOS;
            while (left > 0 && System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
                if (System.nanoTime() - nextLook >= 0) {
                    // a worker that ended sends nothing more, and says nothing of it: look whether it is still filed
                    nextLook = System.nanoTime() + LIVENESS_NANOS;
                    java.util.Set<io.jcircuit.WorkerId> live = new java.util.HashSet<>();
                    w.namespace().listAnchors("/worker", false).entries().forEach(x -> live.add(x.worker()));
                    for (int i = 0; i < workers.size(); i++) {
                        if (!ended[i] && !live.contains(workers.get(i).worker())) {
                            drain(out, workers.get(i), sinks.get(i), prefix);
                            ended[i] = true;
                            left--;
                            spec.commandLine().getErr().println("circuit log: " + workers.get(i).worker()
                                + " ended (it left /worker); " + (left == 0 ? "no worker left to follow" : left + " still followed"));
                        }
                    }
                }
                boolean any = false;
                for (int i = 0; i < sinks.size(); i++) {
                    if (ended[i]) {
                        continue;
                    }
                    Optional<String> l;
                    try {
                        l = sinks.get(i).poll();
                    } catch (ChanClosedException closed) {
                        continue;
                    }
                    if (l.isPresent()) {
                        print(out, workers.get(i), l.get(), prefix);
                        any = true;
                    }
                }
                if (!any) {
                    out.flush();
                    LockSupport.parkNanos(20_000_000);
                }
            }
            out.flush();
            return 0;
        }
    }

    /** How often {@code -f} looks whether the workers it follows are still filed. */
    private static final long LIVENESS_NANOS = 1_000_000_000L;

    /** Prints what {@code sink} still holds from a worker that ended. */
    private void drain(PrintWriter out, Entry e, Chan<String> sink, boolean prefix) {
        try {
            for (Optional<String> l = sink.poll(); l.isPresent(); l = sink.poll()) {
                print(out, e, l.get(), prefix);
            }
        } catch (ChanClosedException closed) {
            // nothing more
        }
    }

    private void print(PrintWriter out, Entry e, String line, boolean prefix) {
        if (json) {
            out.println(Json.write(Map.of("worker", e.worker().toString(), "line", line)));
        } else {
            out.println(prefix ? WorkerOps.shortId(e.worker().toString()) + " " + line : line);
        }
    }
}
