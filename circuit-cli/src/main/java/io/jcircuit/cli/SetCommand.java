package io.jcircuit.cli;

import io.jcircuit.Entry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code circuit set}: changes log levels and application settings of live workers, without a restart. */
@Command(name = "set", mixinStandardHelpOptions = true,
    description = {"Change settings of selected workers while they run: log levels (log.root, log.LOGGER) and",
        "whatever the application defined with Circuit.settings().define(...). Values are checked by the worker.",
        "Example: circuit set /sumr/... log.io.jcircuit=DEBUG   circuit set /ingest/... ingest.batch=1024"})
final class SetCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SELECTOR", description = "Which workers: /dir, /dir/..., /dir/R<id> or R<id>.")
    String selector;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE", description = "Settings to change.")
    List<String> assignments;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        for (String a : assignments) {
            if (a.indexOf('=') <= 0) {
                throw new IllegalArgumentException("'" + a + "' is not KEY=VALUE");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        int failed = 0;
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            for (Entry e : w.select(selector)) {
                for (String a : assignments) {
                    String key = a.substring(0, a.indexOf('='));
                    String value = a.substring(a.indexOf('=') + 1);
                    try {
                        String now = w.call(e, Duration.ofSeconds(10), ops -> ops.set(key, value));
                        out.println(e.worker() + ": " + key + "=" + now);
                    } catch (RuntimeException ex) {
                        failed++;
                        spec.commandLine().getErr().println("circuit set: " + e.worker() + ": " + WorkerOps.why(ex));
                    }
                }
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
