package io.jcircuit.cli;

import io.jcircuit.runtime.ops.DrainReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code circuit drain}: takes workers out of service without ending them. */
@Command(name = "drain", mixinStandardHelpOptions = true,
    description = {"Take selected workers out of service, and wait for the calls they are serving to end.",
        "Their anchors are withdrawn (not /worker or their host's) and their application services stopped.",
        "Example: circuit drain --timeout 30 /sumr/R0123456789abcdef"})
final class DrainCommand extends WorkerVerb implements Callable<Integer> {


    @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS", description = "Longest wait for calls in progress (default 30).")
    int timeoutSeconds;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;


    @Override
    public Integer call() {
        PrintWriter out = out();
        List<Object> all = new ArrayList<>();
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("--timeout must be 0 or more seconds, not " + timeoutSeconds);
        }
        int failed;
        int[] drained = {0};
        try (WorkerOps w = open()) {
            // A host daemon is a runtime filed under /worker too; drained, it would stop its host service,
            // and with it spawns, stops and deploys to that host.
            Map<io.jcircuit.WorkerId, String> daemons = new java.util.HashMap<>();
            Hosts.list(w.namespace()).forEach(h -> daemons.put(h.entry().worker(), h.name()));
            failed = forEachWorker(w, e -> {
                String daemon = daemons.get(e.worker());
                if (daemon != null) {
                    spec.commandLine().getErr().println("circuit drain: " + e.worker() + " is the host daemon " + daemon
                        + ", left in service; 'circuit stop " + daemon + "' stops it");
                    return;
                }
                drained[0]++;
                DrainReport r = w.call(e, Duration.ofSeconds(timeoutSeconds + 10L), ops -> ops.drain(timeoutSeconds * 1000L));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("worker", e.worker().toString());
                m.put("anchorsWithdrawn", r.anchorsWithdrawn());
                m.put("servicesStopped", r.servicesStopped());
                m.put("callsStillRunning", r.callsStillRunning());
                m.put("waitedMillis", r.waitedMillis());
                all.add(m);
                if (!json) {
                    out.println(e.worker() + ": " + Columns.printable("withdrew "
                        + (r.anchorsWithdrawn().isEmpty() ? "no anchors" : String.join(" ", r.anchorsWithdrawn()))
                        + ", stopped " + (r.servicesStopped().isEmpty() ? "no services" : String.join(" ", r.servicesStopped()))
                        + "; " + (r.callsStillRunning() == 0 ? "no calls left after " + r.waitedMillis() + " ms"
                        : r.callsStillRunning() + " calls still running after " + r.waitedMillis() + " ms")));
                }
                if (r.callsStillRunning() > 0) {
                    throw new IllegalStateException(r.callsStillRunning() + " calls still running after the timeout");
                }
            });
        }
        if (json) {
            out.println(Json.write(Map.of("workers", all)));
        }
        out.flush();
        return failed == 0 && drained[0] > 0 ? 0 : 1;
    }
}
