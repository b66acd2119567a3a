package io.jcircuit.cli;

import io.jcircuit.Entry;
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

/** {@code circuit get}: reads settings and log levels of live workers. */
@Command(name = "get", mixinStandardHelpOptions = true,
    description = {"Print settings of selected workers: one KEY, or every setting and explicitly set log level.",
        "Example: circuit get /sumr/...   circuit get /sumr/... log.root"})
final class GetCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SELECTOR", description = "Which workers: /dir, /dir/..., /dir/R<id> or R<id>.")
    String selector;

    @Parameters(index = "1", arity = "0..1", paramLabel = "KEY", description = "One setting, or log.LOGGER.")
    String key;

    @Option(names = "--json", description = "Print one JSON object.")
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
                    Map<String, String> values = key == null
                        ? w.call(e, Duration.ofSeconds(10), ops -> ops.settings())
                        : Map.of(key, w.call(e, Duration.ofSeconds(10), ops -> ops.get(key)));
                    if (json) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("worker", e.worker().toString());
                        m.put("settings", new java.util.TreeMap<>(values));
                        all.add(m);
                    } else {
                        new java.util.TreeMap<>(values).forEach((k, v) -> out.println(e.worker() + " " + k + "=" + v));
                    }
                } catch (RuntimeException ex) {
                    failed++;
                    spec.commandLine().getErr().println("circuit get: " + e.worker() + ": " + WorkerOps.why(ex));
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
