package io.jcircuit.cli;

import io.jcircuit.cli.console.CircuitPicture.Flow;
import io.jcircuit.cli.console.FlowCounters;
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
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code circuit flow}: who calls whom and how hard. Two samples of every worker's outgoing call counters,
 * {@code --interval} apart, give calls and bytes per second for each (caller, callee) pair.
 */
@Command(name = "flow", mixinStandardHelpOptions = true,
    description = {"Show calls/s and bytes/s between workers as a matrix: rows call, columns are called.",
        "Callers that are not workers (this command, other tools) are left out.",
        "Examples:",
        "  circuit flow",
        "  circuit flow --interval 5 --json /wordcount/..."})
final class FlowCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", defaultValue = "/worker", paramLabel = "SELECTOR",
        description = "Which workers' calls (default /worker: all).")
    String selector;

    @Option(names = "--interval", defaultValue = "2", paramLabel = "SECONDS", description = "Seconds between the two samples (default 2).")
    double interval;

    @Option(names = "--json", description = "Print one JSON object.")
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
        if (interval <= 0 || interval > 3600) {
            throw new IllegalArgumentException("--interval must be more than 0 and at most 3600 seconds, not " + interval);
        }
        Duration wait = answer.or(Duration.ofSeconds(5));
        PrintWriter out = spec.commandLine().getOut();
        WorkerOps.checkSelector(selector); // before the client starts
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            var workers = w.select(selector);
            var before = MetricsSampler.sample(w, workers, wait);
            Thread.sleep((long) (interval * 1000)); // the sampling interval itself
            var after = MetricsSampler.sample(w, workers, wait);
            List<Flow> flows = flows(before, after);
            // a worker that did not answer either sample is reported (its flows would read as 0/s)
            Map<String, String> unanswered = new java.util.TreeMap<>();
            for (var samples : List.of(before, after)) {
                samples.values().stream().filter(s -> s.metrics() == null)
                    .forEach(s -> unanswered.putIfAbsent(s.entry().worker().toString(), s.error()));
            }
            if (json) {
                List<Object> fs = new ArrayList<>();
                for (Flow f : flows) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("from", f.from());
                    m.put("to", f.to());
                    m.put("callsPerSec", Math.round(f.callsPerSec() * 10) / 10.0);
                    m.put("bytesPerSec", Math.round(f.bytesPerSec()));
                    m.put("calls", f.calls());
                    m.put("p99Micros", f.p99Micros());
                    fs.add(m);
                }
                List<Object> unreachable = new ArrayList<>();
                unanswered.forEach((worker, error) -> {
                    Map<String, Object> u = new LinkedHashMap<>();
                    u.put("worker", worker);
                    u.put("error", error);
                    unreachable.add(u);
                });
                Map<String, Object> doc = new LinkedHashMap<>(); // in one order, run after run
                doc.put("intervalMillis", (long) (interval * 1000));
                doc.put("flows", fs);
                doc.put("unreachable", unreachable);
                out.println(Json.write(doc));
            } else {
                print(out, flows);
                unanswered.forEach((worker, error) -> out.println(worker + ": unreachable: " + error));
            }
            out.flush();
            return unanswered.isEmpty() ? 0 : 1; // as every verb: 1 when a worker did not answer
        }
    }

    /** Caller to callee, for every pair among the sampled workers, from their OUT counters. */
    static List<Flow> flows(Map<String, MetricsSampler.Sample> before, Map<String, MetricsSampler.Sample> after) {
        List<Flow> flows = new ArrayList<>();
        for (var s : after.values()) {
            MetricsSnapshot a = s.metrics();
            if (a == null) {
                continue;
            }
            String from = s.entry().worker().toString();
            MetricsSampler.Sample prev = before.get(from);
            MetricsSnapshot b = prev == null ? null : prev.metrics();
            Map<String, FlowCounters> then = b == null ? Map.of() : FlowCounters.outByPeer(b);
            double seconds = b == null ? 0 : (a.atMillis() - b.atMillis()) / 1000.0;
            FlowCounters.outByPeer(a).forEach((to, now) -> {
                if (after.containsKey(to)) { // callers that are not selected workers (tools, clients) are left out
                    flows.add(now.flow(from, to, then.get(to), seconds));
                }
            });
        }
        return flows;
    }

    private static void print(PrintWriter out, List<Flow> flows) {
        if (flows.isEmpty()) {
            out.println("no calls between the selected workers");
            return;
        }
        TreeSet<String> froms = new TreeSet<>();
        TreeSet<String> tos = new TreeSet<>();
        flows.forEach(f -> {
            froms.add(f.from());
            tos.add(f.to());
        });
        List<String[]> table = new ArrayList<>();
        List<String> head = new ArrayList<>();
        head.add("FROM \\ TO");
        tos.forEach(t -> head.add(WorkerOps.shortId(t)));
        table.add(head.toArray(String[]::new));
        for (String from : froms) {
            List<String> row = new ArrayList<>();
            row.add(WorkerOps.shortId(from));
            for (String to : tos) {
                Flow f = flows.stream().filter(x -> x.from().equals(from) && x.to().equals(to)).findFirst().orElse(null);
                row.add(f == null ? "-" : String.format("%.1f/s %.1fKiB/s", f.callsPerSec(), f.bytesPerSec() / 1024));
            }
            table.add(row.toArray(String[]::new));
        }
        Columns.print(out, table);
    }
}
