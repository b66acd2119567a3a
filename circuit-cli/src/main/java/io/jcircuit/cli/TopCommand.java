package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.runtime.ops.JvmStats;
import io.jcircuit.runtime.ops.MetricsSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code circuit top}: a live table of workers, like top (the Go Circuit's {@code 4top}): CPU, heap,
 * threads, and the calls each serves and makes per second.
 */
@Command(name = "top", mixinStandardHelpOptions = true,
    description = {"Show a live, refreshing table of workers: CPU, heap, resident memory, threads, calls in and out per second.",
        "Columns: CPU%% (100 is one core), HEAP (used/max), RSS (the process's resident memory), THR (threads), IN/s and "
            + "OUT/s (calls served and made per second), ERR/s (failed calls per second), KiB/s (call traffic), P99in "
            + "(the highest of the served methods' 99th percentile times, since the first call) and UP (uptime).",
        "Ctrl-C stops. --once prints one table (two samples --interval apart) and exits.",
        "Examples:",
        "  circuit top",
        "  circuit top /sumr/...",
        "  circuit top --once --json"})
final class TopCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", defaultValue = "/worker", paramLabel = "SELECTOR",
        description = "Which workers (default /worker: all).")
    String selector;

    @Option(names = "--once", description = "Print one table and exit.")
    boolean once;

    @Option(names = "--interval", defaultValue = "2", paramLabel = "SECONDS", description = "Seconds between samples (default 2).")
    double interval;

    @Option(names = "--json", description = "With --once: print one JSON object.")
    boolean json;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Mixin
    AnswerWait answer;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (json && !once) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--json needs --once: a refreshing table is for people");
        }
        if (interval <= 0 || interval > 3600) {
            throw new IllegalArgumentException("--interval must be more than 0 and at most 3600 seconds, not " + interval);
        }
        Duration wait = answer.or(Duration.ofSeconds(5));
        PrintWriter out = spec.commandLine().getOut();
        long pause = (long) (interval * 1000);
        boolean terminal = Progress.onTerminal();
        WorkerOps.checkSelector(selector); // before the client starts
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            Frames frames = new Frames(MetricsSampler.sample(w, w.select(selector), wait), w.hostDaemons());
            while (true) {
                Thread.sleep(pause); // the sampling interval itself, not a wait for a condition
                List<Entry> workers = w.select(selector);
                Map<String, MetricsSampler.Sample> before = frames.before();
                Map<String, MetricsSampler.Sample> after = frames.next(MetricsSampler.sample(w, workers, wait),
                    w.hostDaemons());
                List<Map<String, Object>> rows = rows(before, after, w.client().id().toString(), frames.daemons());
                if (json) {
                    out.println(Json.write(Map.of("intervalMillis", pause, "workers", rows)));
                } else {
                    if (!once && terminal) {
                        out.print("\033[H\033[2J"); // home and clear, as top does
                    } else if (!once) {
                        out.println(); // into a file or a pipe: one table after another
                    }
                    print(out, rows);
                }
                out.flush();
                if (once) {
                    // a worker that did not answer, or went, is in the table; the status says so too
                    return onceStatus(rows);
                }
            }
        }
    }

    /**
     * The samples each table is drawn from: the last one taken, and the next with a row for each worker
     * selected for the last but not for the next, which left the namespace meanwhile. Such a row is in one
     * table only: the sample after it is compared with what was sampled, not with what was shown (a live
     * {@code top} showed a worker killed long before as "left between the two samples" in every table).
     * Beside them, each shown worker's host daemon: a worker that went has left its host's directory too, and
     * its row keeps the host it was seen on (it showed the machine's name).
     */
    static final class Frames {
        private Map<String, MetricsSampler.Sample> before;
        private Map<io.jcircuit.WorkerId, String> daemons;

        Frames(Map<String, MetricsSampler.Sample> first, Map<io.jcircuit.WorkerId, String> daemons) {
            this.before = first;
            this.daemons = daemons;
        }

        Map<String, MetricsSampler.Sample> before() {
            return before;
        }

        /** The host daemon of each worker of the last table drawn ({@link #next}). */
        Map<io.jcircuit.WorkerId, String> daemons() {
            return daemons;
        }

        Map<String, MetricsSampler.Sample> next(Map<String, MetricsSampler.Sample> sampled,
                                                Map<io.jcircuit.WorkerId, String> daemonsNow) {
            Map<String, MetricsSampler.Sample> shown = new java.util.LinkedHashMap<>(sampled);
            for (var gone : before.values()) {
                shown.putIfAbsent(gone.entry().worker().toString(),
                    new MetricsSampler.Sample(gone.entry(), null, "left the namespace between the two samples"));
            }
            Map<io.jcircuit.WorkerId, String> known = new java.util.HashMap<>(daemonsNow);
            for (var s : shown.values()) {
                io.jcircuit.WorkerId id = s.entry().worker();
                if (!known.containsKey(id) && daemons.containsKey(id)) {
                    known.put(id, daemons.get(id));
                }
            }
            before = sampled;
            daemons = known;
            return shown;
        }
    }

    /** The exit status of {@code --once}: 1 when a worker did not answer or went, as the README says. */
    static int onceStatus(List<Map<String, Object>> rows) {
        return rows.stream().anyMatch(r -> r.containsKey("error")) ? 1 : 0;
    }

    /** The table's rows; the calls of {@code self} (this command's runtime, sampling) are not counted. */
    static List<Map<String, Object>> rows(Map<String, MetricsSampler.Sample> before, Map<String, MetricsSampler.Sample> after,
                                          String self, Map<io.jcircuit.WorkerId, String> hostDaemons) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var s : after.values()) {
            Map<String, Object> r = new LinkedHashMap<>();
            Entry e = s.entry();
            r.put("worker", e.worker().toString());
            // the host daemon, as everywhere else (its machine's name for a worker no host started), and the machine
            r.put("host", hostDaemons.getOrDefault(e.worker(), e.host()));
            r.put("machine", e.host());
            r.put("pid", e.pid());
            MetricsSnapshot a = s.metrics();
            if (a == null) {
                r.put("error", s.error());
                rows.add(r);
                continue;
            }
            MetricsSampler.Sample prev = before.get(e.worker().toString());
            MetricsSnapshot b = prev == null ? null : prev.metrics();
            JvmStats j = a.jvm();
            double cpu = b == null || a.atMillis() <= b.atMillis() || j.cpuTimeNanos() < 0 ? -1
                : Math.max(0, j.cpuTimeNanos() - b.jvm().cpuTimeNanos()) / 1e6 / (a.atMillis() - b.atMillis()) * 100;
            r.put("cpuPercent", Math.round(cpu * 10) / 10.0);
            r.put("heapUsedBytes", j.heapUsed());
            r.put("heapMaxBytes", j.heapMax());
            r.put("rssBytes", j.rssBytes());
            r.put("threads", j.threads());
            var inA = MetricsSampler.Totals.of(a, "IN", self);
            var outA = MetricsSampler.Totals.of(a, "OUT", self);
            // row by row: a peer that left between the samples takes its past calls with it, not the others' rates
            var inGrown = MetricsSampler.Totals.grown(b, a, "IN", self);
            var outGrown = MetricsSampler.Totals.grown(b, a, "OUT", self);
            r.put("callsInPerSec", round(MetricsSampler.perSecond(inGrown.calls(), b, a)));
            r.put("callsOutPerSec", round(MetricsSampler.perSecond(outGrown.calls(), b, a)));
            r.put("errorsPerSec", round(MetricsSampler.perSecond(inGrown.errors() + outGrown.errors(), b, a)));
            r.put("bytesPerSec", round(MetricsSampler.perSecond(inGrown.bytes() + outGrown.bytes(), b, a)));
            r.put("callsIn", inA.calls());
            r.put("callsOut", outA.calls());
            r.put("p99InMicros", inA.p99Micros());
            r.put("gcMillis", j.gcMillis());
            r.put("uptimeMillis", a.uptimeMillis());
            rows.add(r);
        }
        return rows;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static void print(PrintWriter out, List<Map<String, Object>> rows) {
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"WORKER", "HOST", "PID", "CPU%", "HEAP", "RSS", "THR", "IN/s", "OUT/s", "ERR/s", "KiB/s", "P99in", "UP"});
        for (Map<String, Object> r : rows) {
            if (r.containsKey("error")) {
                table.add(new String[] {(String) r.get("worker"), (String) r.get("host"), String.valueOf(r.get("pid")),
                    "unreachable: " + r.get("error")});
                continue;
            }
            table.add(new String[] {
                WorkerOps.shortId((String) r.get("worker")), (String) r.get("host"), String.valueOf(r.get("pid")),
                (double) r.get("cpuPercent") < 0 ? "-" : String.valueOf(r.get("cpuPercent")),
                mib((long) r.get("heapUsedBytes")) + "/" + mib((long) r.get("heapMaxBytes")),
                mib((long) r.get("rssBytes")),
                String.valueOf(r.get("threads")), String.valueOf(r.get("callsInPerSec")), String.valueOf(r.get("callsOutPerSec")),
                String.valueOf(r.get("errorsPerSec")), String.valueOf(Math.round((double) r.get("bytesPerSec") / 1024)),
                millis((long) r.get("p99InMicros")), Duration.ofMillis((long) r.get("uptimeMillis")).toSeconds() + "s"});
        }
        Columns.print(out, table);
    }

    private static String mib(long bytes) {
        return bytes <= 0 ? "-" : (bytes >> 20) + "M";
    }

    private static String millis(long micros) {
        return micros == 0 ? "-" : String.format("%.2fms", micros / 1000.0);
    }
}
