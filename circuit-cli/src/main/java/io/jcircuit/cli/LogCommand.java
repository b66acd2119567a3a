package io.jcircuit.cli;

import io.jcircuit.Chan;
import io.jcircuit.ChanClosedException;
import io.jcircuit.Entry;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.SpawnedWorker;
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

/**
 * {@code circuit log}: the recent log lines of live workers, and with {@code -f} every new one; with
 * {@code --stdout} or {@code --stderr}, or for a worker that has ended, the files of its directory on
 * its host (DESIGN §3).
 */
@Command(name = "log", mixinStandardHelpOptions = true,
    description = {"Print the last log lines of selected workers; with -f, keep printing new ones (Ctrl-C stops).",
        "With several workers each line starts with the worker's short id.",
        "--stdout and --stderr print what a worker wrote there instead, from its directory on its host. A worker"
            + " that has ended is named by its id: its exit status and the end of its stderr (or of --stdout) are"
            + " read from that directory, which stays until 'circuit clear'. One that its host still runs but that left /worker"
            + " (paused past its ZooKeeper session) is said to, with the same ends.",
        "Examples:",
        "  circuit log -n 50 /sumr/...",
        "  circuit log -f /worker/R0123456789abcdef",
        "  circuit log --stdout R0123456789abcdef"})
final class LogCommand extends WorkerVerb implements Callable<Integer> {


    @Option(names = {"-n", "--lines"}, defaultValue = "100", paramLabel = "N", description = "How many recent lines (default 100).")
    int lines;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines.")
    boolean follow;

    @Option(names = "--for", paramLabel = "SECONDS", description = "With -f: stop after this many seconds (default: until Ctrl-C).")
    Long forSeconds;

    @Option(names = "--json", description = "One JSON object per line: {\"worker\":…, \"line\":…}.")
    boolean json;

    @Option(names = "--stdout", description = "Print the end of the worker's stdout (its directory on its host).")
    boolean stdout;

    @Option(names = "--stderr", description = "Print the end of the worker's stderr (its directory on its host).")
    boolean stderr;

    @picocli.CommandLine.Mixin
    AnswerWait answer;


    @Override
    public Integer call() {
        if (lines < 1) {
            throw new IllegalArgumentException("-n must be at least 1, not " + lines);
        }
        if (forSeconds != null && forSeconds < 1) {
            throw new IllegalArgumentException("--for must be at least 1 second, not " + forSeconds);
        }
        if (forSeconds != null && !follow) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--for needs -f: it says when to stop following");
        }
        if (stdout && stderr) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give --stdout or --stderr, not both");
        }
        Duration wait = answer.or(Duration.ofSeconds(10));
        String file = stdout ? "stdout" : stderr ? "stderr" : null;
        if (follow && file != null) {
            throw new IllegalArgumentException("-f follows the log; --" + file + " prints the end of a file once");
        }
        if (file != null && answer.seconds != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "--timeout is how long the workers are waited for; --" + file + " asks their hosts (within 10 s each)");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (WorkerOps w = open()) {
            List<Entry> workers;
            try {
                workers = w.select(selector);
            } catch (IllegalArgumentException noLiveWorker) {
                io.jcircuit.WorkerId ended = WorkerOps.workerIdIn(selector);
                if (ended == null || follow) {
                    throw noLiveWorker;
                }
                return postMortem(w, ended, file == null ? "stderr" : file, out);
            }
            boolean prefix = workers.size() > 1;
            if (file != null) {
                int failed = 0;
                for (Entry e : workers) {
                    try {
                        Found f = fromHosts(w, e.worker(), file);
                        if (f == null) {
                            throw new IllegalStateException(Hosts.notRunningHostOf(w.namespace(), e.worker(), Hosts.list(w.namespace()))
                                .map(gone -> gone + "; until then, a plain 'circuit log' asks the worker itself")
                                .orElse("no host keeps a directory for it (a runtime that no host started has none)"));
                        }
                        f.lines().forEach(l -> print(out, e, l, prefix));
                    } catch (RuntimeException ex) {
                        failed++;
                        spec.commandLine().getErr().println("circuit log: " + e.worker() + ": " + WorkerOps.why(ex));
                    }
                }
                out.flush();
                return failed == 0 ? 0 : 1;
            }
            if (!follow) {
                int failed = 0;
                for (Entry e : workers) {
                    try {
                        for (String l : w.call(e, wait, ops -> ops.logTail(lines))) {
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
            boolean[] ended = new boolean[workers.size()];
            int left = workers.size();
            int failed = 0;
            for (int i = 0; i < workers.size(); i++) {
                Entry e = workers.get(i);
                Chan<String> sink = w.client().makeChan(1024);
                sinks.add(sink);
                try {
                    w.call(e, wait, ops -> {
                        ops.logFollow(sink, lines);
                        return null;
                    });
                } catch (RuntimeException ex) {
                    // the others are still followed, as every verb reports a worker that does not answer
                    failed++;
                    ended[i] = true;
                    left--;
                    spec.commandLine().getErr().println("circuit log: " + e.worker() + ": " + WorkerOps.why(ex));
                }
            }
            long end = forSeconds == null ? Long.MAX_VALUE : System.nanoTime() + forSeconds * 1_000_000_000L;
            long nextLook = System.nanoTime() + WorkerOps.LIVENESS_NANOS;
            while (left > 0 && System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
                if (System.nanoTime() - nextLook >= 0) {
                    // a worker that ended sends nothing more, and says nothing of it: look whether it is still filed
                    nextLook = System.nanoTime() + WorkerOps.LIVENESS_NANOS;
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
            return failed == 0 ? 0 : 1;
        }
    }

    /** Lines of a worker's file, and the host daemon that keeps its directory. */
    private record Found(String host, List<String> lines) {
    }

    /** The last lines of {@code file} of {@code worker}'s directory, from whichever host keeps it; null when none does. */
    private Found fromHosts(WorkerOps w, io.jcircuit.WorkerId worker, String file) {
        List<String> unreachable = new ArrayList<>();
        for (Hosts.Host h : Hosts.list(w.namespace())) {
            try {
                List<String> found = Hosts.ask(w.client(), h, hs -> hs.workerFile(worker, file, lines));
                if (found != null) {
                    return new Found(h.name(), found);
                }
            } catch (RuntimeException ex) {
                unreachable.add(h.name() + " (" + WorkerOps.why(ex) + ")");
            }
        }
        if (!unreachable.isEmpty()) {
            throw new IllegalStateException("no host that answered keeps a directory for it; not asked: "
                + String.join(", ", unreachable));
        }
        return null;
    }

    /**
     * {@code circuit log} of a worker no longer filed: the end of {@code file} from its host, after its exit
     * status, or, when its host still runs it (its ZooKeeper session ended while it was paused or cut off,
     * and its entries went with it), after saying so.
     */
    private int postMortem(WorkerOps w, io.jcircuit.WorkerId worker, String file, PrintWriter out) {
        Found f = fromHosts(w, worker, file);
        if (f == null) {
            throw new IllegalArgumentException("worker " + worker + " is not running, and no running host keeps a"
                + " directory for it (never spawned by a host, cleared with 'circuit clear', or its host is down)");
        }
        Found exit = fromHosts(w, worker, "exit");
        boolean recorded = exit != null && !exit.lines().isEmpty();
        // no exit status: it may have ended unrecorded, or run on without its entries; the host that keeps its directory knows
        Optional<SpawnedWorker> running = recorded ? Optional.empty() : runningOn(w, f.host(), worker);
        String status = recorded ? "exit status " + exit.lines().getFirst().strip() : "no exit status recorded";
        if (json) {
            for (String l : f.lines()) {
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("worker", worker.toString());
                m.put("host", f.host());
                m.put("file", file);
                m.put("line", l);
                out.println(Json.write(m));
            }
        } else {
            // a process that is ending (killed, or exiting: it writes its class archive first) has left /worker too
            String state = running.map(r -> "runs on host " + f.host() + " (pid " + r.pid() + ") but has left /worker:"
                    + " it is ending (killed, or exiting), or its ZooKeeper session ended (paused, or cut off from ZooKeeper)"
                    + " and it files itself again in a new one. Meanwhile it cannot be asked for its log lines ('circuit kill "
                    + worker + "' ends it through its host)")
                .orElse("has ended (" + status + ")");
            out.println("worker " + worker + " " + state + "; the end of its " + file + " on host " + f.host()
                + (f.lines().isEmpty() ? ": empty" : ":"));
            f.lines().forEach(out::println);
        }
        out.flush();
        return 0;
    }

    /** The worker as host {@code host} runs it; empty when that host runs no such worker (or is no longer filed). */
    private static Optional<SpawnedWorker> runningOn(WorkerOps w, String host, io.jcircuit.WorkerId worker) {
        return Hosts.find(w.namespace(), host).flatMap(h -> Hosts.ask(w.client(), h, HostService::workers).stream()
            .filter(s -> s.id().equals(worker)).findFirst());
    }

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
