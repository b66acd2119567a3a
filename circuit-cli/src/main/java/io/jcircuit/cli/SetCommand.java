package io.jcircuit.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code circuit set}: changes log levels and application settings of live workers, without a restart. */
@Command(name = "set", mixinStandardHelpOptions = true,
    description = {"Change settings of selected workers while they run.",
        "Settings are log levels (log.root, log.LOGGER) and whatever the application defined with "
            + "Circuit.settings().define(...). Values are checked by the worker. Several KEY=VALUE apply one by one: "
            + "each applied is printed; a refused one is reported and changes nothing, and the others still apply.",
        "Examples:",
        "  circuit set /sumr/... log.io.jcircuit=DEBUG",
        "  circuit set /ingest/... ingest.batch=1024"})
final class SetCommand extends WorkerVerb implements Callable<Integer> {


    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE", description = "Settings to change.")
    List<String> assignments;

    @picocli.CommandLine.Mixin
    AnswerWait answer;


    @Override
    public Integer call() {
        for (String a : assignments) {
            if (a.indexOf('=') <= 0) {
                // a command line that does not parse: nothing is applied, as for any usage error
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "'" + a + "' is not KEY=VALUE");
            }
        }
        Duration wait = answer.or(Duration.ofSeconds(10));
        PrintWriter out = out();
        PrintWriter err = spec.commandLine().getErr();
        int[] refused = {0};
        int failed;
        try (WorkerOps w = open()) {
            failed = forEachWorker(w, e -> {
                for (String a : assignments) { // every assignment is tried, and each refusal reported, even after one
                    String key = a.substring(0, a.indexOf('='));
                    String value = a.substring(a.indexOf('=') + 1);
                    try {
                        String now = w.call(e, wait, ops -> ops.set(key, value));
                        out.println(e.worker() + ": " + Columns.printable(key + "=" + now));
                    } catch (RuntimeException ex) {
                        refused[0]++;
                        err.println("circuit set: " + e.worker() + ": " + a + ": " + WorkerOps.why(ex));
                    }
                }
            });
        }
        out.flush();
        return failed == 0 && refused[0] == 0 ? 0 : 1;
    }
}
