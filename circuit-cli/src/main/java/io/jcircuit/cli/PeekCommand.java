package io.jcircuit.cli;

import io.jcircuit.runtime.ops.OpsInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code circuit peek}: who a worker is and what it runs, from its ops service. */
@Command(name = "peek", mixinStandardHelpOptions = true,
    description = {"Show what selected workers say about themselves: pid, host, version, uptime, anchors, services, peers.",
        "SELECTOR is /dir, /dir/... or /dir/R<id> (or a bare worker id).",
        "Examples:",
        "  circuit peek /worker/...",
        "  circuit peek --json /sumr/..."})
final class PeekCommand extends WorkerVerb implements Callable<Integer> {


    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @picocli.CommandLine.Mixin
    AnswerWait answer;


    @Override
    public Integer call() {
        Duration wait = answer.or(Duration.ofSeconds(5));
        PrintWriter out = out();
        List<Object> all = new ArrayList<>();
        List<Object> unreachable = new ArrayList<>(); // in the JSON too, as flow's and top's are
        int failed;
        try (WorkerOps w = open()) {
            Map<io.jcircuit.WorkerId, String> daemons = w.hostDaemons();
            failed = forEachWorker(w, e -> {
                OpsInfo i = w.call(e, wait, ops -> ops.info());
                if (json) {
                    Map<String, Object> m = io.jcircuit.cli.console.PictureJson.info(i, daemons.get(e.worker()));
                    m.put("peers", peersOf(i, w.client().id().toString()));
                    all.add(m);
                } else {
                    print(out, i, daemons.get(e.worker()), w.client().id().toString());
                }
            }, (e, why) -> {
                Map<String, Object> u = new java.util.LinkedHashMap<>();
                u.put("worker", e.worker().toString());
                u.put("error", why);
                unreachable.add(u);
            });
        }
        if (json) {
            Map<String, Object> doc = new java.util.LinkedHashMap<>();
            doc.put("workers", all);
            doc.put("unreachable", unreachable);
            out.println(Json.write(doc));
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    /** The worker's peers but for {@code self}, this command's own runtime, which it has only because it was asked. */
    private static List<String> peersOf(OpsInfo i, String self) {
        return i.peers().stream().filter(p -> !p.equals(self)).toList();
    }

    /**
     * {@code daemon}: the host daemon that runs the worker, or null when none started it; {@code self}: this
     * command's own runtime, which the worker has as a peer only because it was asked.
     */
    private static void print(PrintWriter out, OpsInfo i, String daemon, String self) {
        out.println(Columns.printable(i.worker())); // the rest goes through Columns too: the worker says it all
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"  address", i.address()});
        // "host" is the host daemon, as in /host/NAME, 'circuit hosts' and 'stop NAME'; the machine is named as such
        rows.add(new String[] {"  host", (daemon == null ? "-" : daemon) + " (machine " + i.host() + ", pid " + i.pid() + ")"});
        rows.add(new String[] {"  version", i.version() + " (class path " + i.classpathHash() + ")"});
        rows.add(new String[] {"  up", Duration.ofMillis(i.uptimeMillis()).withNanos(0).toString().substring(2).toLowerCase()
            + " since " + Instant.ofEpochMilli(i.startedMillis())});
        rows.add(new String[] {"  anchors", i.anchors().isEmpty() ? "-" : String.join(" ", i.anchors())});
        rows.add(new String[] {"  services", i.services().isEmpty() ? "-" : String.join(" ", i.services())});
        List<String> peers = peersOf(i, self);
        rows.add(new String[] {"  peers", peers.isEmpty() ? "-" : String.join(" ", peers)});
        rows.add(new String[] {"  jvm", i.jvm() + ", " + i.processors() + " cpus, heap max " + Progress.mib(i.heapMaxBytes())});
        rows.add(new String[] {"  profiler", i.profiler()});
        Columns.print(out, rows);
        out.println();
    }
}
