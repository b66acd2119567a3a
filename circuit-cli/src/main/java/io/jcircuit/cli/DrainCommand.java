package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.runtime.ops.DrainReport;
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

/** {@code circuit drain}: takes workers out of service without ending them. */
@Command(name = "drain", mixinStandardHelpOptions = true,
    description = {"Take selected workers out of service: withdraw their anchors (not /worker or their host's),",
        "stop their application services, and wait for the calls they are serving to end.",
        "Example: circuit drain --timeout 30 /sumr/R0123456789abcdef"})
final class DrainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SELECTOR", description = "Which workers: /dir, /dir/..., /dir/R<id> or R<id>.")
    String selector;

    @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS", description = "Longest wait for calls in progress (default 30).")
    int timeoutSeconds;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int failed = 0;
        List<Object> all = new ArrayList<>();
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            for (Entry e : w.select(selector)) {
                try {
                    DrainReport r = w.call(e, Duration.ofSeconds(timeoutSeconds + 10L), ops -> ops.drain(timeoutSeconds * 1000L));
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("worker", e.worker().toString());
                    m.put("anchorsWithdrawn", r.anchorsWithdrawn());
                    m.put("servicesStopped", r.servicesStopped());
                    m.put("callsStillRunning", r.callsStillRunning());
                    m.put("waitedMillis", r.waitedMillis());
                    all.add(m);
                    if (!json) {
                        out.println(e.worker() + ": withdrew " + (r.anchorsWithdrawn().isEmpty() ? "no anchors" : String.join(" ", r.anchorsWithdrawn()))
                            + ", stopped " + (r.servicesStopped().isEmpty() ? "no services" : String.join(" ", r.servicesStopped()))
                            + "; " + (r.callsStillRunning() == 0 ? "no calls left after " + r.waitedMillis() + " ms"
                            : r.callsStillRunning() + " calls still running after " + r.waitedMillis() + " ms"));
                    }
                    if (r.callsStillRunning() > 0) {
                        failed++;
                    }
                } catch (RuntimeException ex) {
                    failed++;
                    spec.commandLine().getErr().println("circuit drain: " + e.worker() + ": " + WorkerOps.why(ex));
                }
            }
        }
        if (json) {
            out.println(Json.write(Map.of("workers", all)));
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
