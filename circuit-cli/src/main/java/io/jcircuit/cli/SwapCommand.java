package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code circuit swap}: replaces the services of live workers with a build of another version, without
 * a failed call. For each selected worker, one at a time: a replacement is spawned on the same host
 * with the new code and runs {@link SwapIn} for each service (freeze and drain the old one, hand its
 * state over, serve, file the same anchors, forward the old one's callers); then the old worker
 * withdraws its anchors, lingers while callers follow the move, and exits.
 */
@Command(name = "swap", mixinStandardHelpOptions = true,
    description = {"Replace the services of selected workers with another version of their code, one worker at a time.",
        "Each gets a replacement on its host that takes over its state (Swappable), its anchors and its callers;",
        "the old worker then exits. A replacement that cannot take over rolls back, and the swap stops there.",
        "Example: circuit swap /sumr/... --deployment sumr:2"})
final class SwapCommand extends WorkerVerb implements Callable<Integer> {

    @Option(names = "--deployment", required = true, paramLabel = "NAME[:VERSION]",
        description = "The code to swap in: a deployment made with 'circuit deploy' (latest version by default).")
    String deployment;

    @Option(names = "--service", paramLabel = "NAME", description = "Swap only this service (default: every service of each worker).")
    String service;

    @Option(names = "--drain", defaultValue = "10", paramLabel = "SECONDS",
        description = "How long an old worker may take to finish the calls it is running (default 10).")
    int drainSeconds;

    @Option(names = "--linger", defaultValue = "5", paramLabel = "SECONDS",
        description = "How long an old worker stays to redirect callers that still hold references to it (default 5).")
    int lingerSeconds;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = out();
        List<Object> swapped = new ArrayList<>();
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            List<Entry> workers = w.select(selector);
            // the replacements outlive this command: daemonized
            Swapper swapper = new Swapper(w.client(), dir -> w.namespace().listAnchors(dir, true).entries(),
                SpawnOptions.defaults().withDeployment(deployment).daemonized(), Duration.ofSeconds(drainSeconds),
                Duration.ofSeconds(lingerSeconds));
            for (Entry old : workers) {
                Swapper.Swapped s = swapper.swap(old, service);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("old", s.oldWorker());
                m.put("new", s.newWorker());
                m.put("host", s.host());
                m.put("services", s.services());
                m.put("anchors", s.anchors());
                m.put("millis", s.millis());
                swapped.add(m);
                if (!json) {
                    out.println("swapped " + s.oldWorker() + " -> " + s.newWorker() + " on " + s.host() + ": "
                        + String.join(", ", s.services()) + " (" + s.millis() + " ms)");
                    out.flush();
                }
            }
        }
        if (json) {
            out.println(Json.write(Map.of("swapped", swapped, "deployment", deployment)));
        }
        out.flush();
        return 0;
    }
}
