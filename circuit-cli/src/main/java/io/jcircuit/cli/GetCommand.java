package io.jcircuit.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
        "Examples:",
        "  circuit get /sumr/...",
        "  circuit get /sumr/... log.root"})
final class GetCommand extends WorkerVerb implements Callable<Integer> {


    @Parameters(index = "1", arity = "0..1", paramLabel = "KEY", description = "One setting, or log.LOGGER.")
    String key;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @picocli.CommandLine.Mixin
    AnswerWait answer;


    @Override
    public Integer call() {
        Duration wait = answer.or(Duration.ofSeconds(10));
        PrintWriter out = out();
        List<Object> all = new ArrayList<>();
        int failed;
        try (WorkerOps w = open()) {
            failed = forEachWorker(w, e -> {
                Map<String, String> values = new java.util.TreeMap<>(key == null
                    ? w.call(e, wait, ops -> ops.settings())
                    : Map.of(key, w.call(e, wait, ops -> ops.get(key))));
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("worker", e.worker().toString());
                    m.put("settings", values);
                    all.add(m);
                } else {
                    values.forEach((k, v) -> out.println(e.worker() + " " + Columns.printable(k + "=" + v)));
                }
            });
        }
        if (json) {
            out.println(Json.write(Map.of("workers", all)));
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
