package io.jcircuit.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code circuit stack}: the thread dumps of live workers, virtual threads included (the Go Circuit's {@code 4stk}). */
@Command(name = "stack", mixinStandardHelpOptions = true,
    description = {"Print the thread dump of each selected worker, virtual threads included.",
        "Examples:",
        "  circuit stack /sumr/...",
        "  circuit stack --json /worker/R0123456789abcdef"})
final class StackCommand extends WorkerVerb implements Callable<Integer> {


    @Option(names = "--json", description = "One JSON object per worker per line: {\"worker\":…, \"threadDump\":{the JDK's JSON dump}}.")
    boolean json;

    @picocli.CommandLine.Mixin
    AnswerWait answer;


    @Override
    public Integer call() {
        Duration wait = answer.or(Duration.ofSeconds(20));
        PrintWriter out = out();
        int failed;
        try (WorkerOps w = open()) {
            failed = forEachWorker(w, e -> {
                String dump = w.call(e, wait, ops -> ops.threadDump(json));
                if (json) {
                    // The dump is already JSON, printed over many lines: embed it on one. A line break can only
                    // stand between tokens (a string holds "\n", never the character), so it and the
                    // indentation after it go.
                    out.println("{\"worker\":" + Json.write(e.worker().toString()) + ",\"threadDump\":"
                        + dump.strip().replaceAll("\\R\\s*", "") + "}");
                } else {
                    out.println("=== " + e.worker() + " (" + Columns.printable(e.host()) + ", pid " + e.pid() + ")");
                    out.println(dump);
                }
            });
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
