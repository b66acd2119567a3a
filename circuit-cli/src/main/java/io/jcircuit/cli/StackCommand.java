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
import java.util.concurrent.Callable;

/** {@code circuit stack}: the thread dumps of live workers, virtual threads included (the Go Circuit's {@code 4stk}). */
@Command(name = "stack", mixinStandardHelpOptions = true,
    description = {"Print the thread dump of each selected worker, virtual threads included.",
        "Example: circuit stack /sumr/...   circuit stack --json /worker/R0123456789abcdef"})
final class StackCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SELECTOR", description = "Which workers: /dir, /dir/..., /dir/R<id> or R<id>.")
    String selector;

    @Option(names = "--json", description = "One JSON object per worker per line: {\"worker\":…, \"threadDump\":{the JDK's JSON dump}}.")
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
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            for (Entry e : w.select(selector)) {
                try {
                    String dump = w.call(e, Duration.ofSeconds(20), ops -> ops.threadDump(json));
                    if (json) {
                        // the dump is already JSON: embed it as is
                        out.println("{\"worker\":" + Json.write(e.worker().toString()) + ",\"threadDump\":" + dump.strip() + "}");
                    } else {
                        out.println("=== " + e.worker() + " (" + e.host() + ", pid " + e.pid() + ")");
                        out.println(dump);
                    }
                } catch (RuntimeException ex) {
                    failed++;
                    spec.commandLine().getErr().println("circuit stack: " + e.worker() + ": " + WorkerOps.why(ex));
                }
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
