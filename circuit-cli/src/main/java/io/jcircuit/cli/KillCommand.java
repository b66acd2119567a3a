package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code circuit kill}: ends live workers (the Go Circuit's {@code 4kill}). Each closes its runtime and
 * exits through its ops service; with {@code --drain} it first withdraws its anchors and lets its calls
 * finish. The command returns once the workers have left {@code /worker}.
 */
@Command(name = "kill", mixinStandardHelpOptions = true,
    description = {"End selected workers and wait until they have left /worker.",
        "Example: circuit kill /wordcount/...   circuit kill --drain 10 /sumr/R0123456789abcdef"})
final class KillCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "SELECTOR", description = "Which workers: /dir, /dir/..., /dir/R<id> or R<id>.")
    String selector;

    @Option(names = "--drain", paramLabel = "SECONDS", description = "Drain first: withdraw anchors and wait up to SECONDS for calls in progress.")
    Integer drainSeconds;

    @Option(names = "--status", defaultValue = "0", description = "The exit status (default 0).")
    int status;

    @Option(names = "--wait", defaultValue = "15", paramLabel = "SECONDS", description = "How long to wait for the workers to leave /worker (default 15).")
    int waitSeconds;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            List<Entry> workers = w.select(selector);
            int failed = 0;
            for (Entry e : workers) {
                if (e.worker().equals(w.client().id())) {
                    continue;
                }
                try {
                    if (drainSeconds != null) {
                        var r = w.call(e, Duration.ofSeconds(drainSeconds + 10L), ops -> ops.drain(drainSeconds * 1000L));
                        out.println(e.worker() + ": drained in " + r.waitedMillis() + " ms (" + r.anchorsWithdrawn().size()
                            + " anchors withdrawn, " + r.callsStillRunning() + " calls still running)");
                    }
                    w.call(e, Duration.ofSeconds(10), ops -> {
                        ops.exit(status);
                        return null;
                    });
                } catch (io.jcircuit.WorkerDiedException gone) {
                    // it went before it could answer: what was asked for
                } catch (RuntimeException ex) {
                    failed++;
                    spec.commandLine().getErr().println("circuit kill: " + e.worker() + ": " + WorkerOps.why(ex));
                    continue;
                }
                if (awaitGone(w, e.worker())) {
                    out.println("killed " + e.worker() + " (" + e.host() + ", pid " + e.pid() + ")");
                } else {
                    failed++;
                    spec.commandLine().getErr().println("circuit kill: " + e.worker() + " was told to exit but is still in /worker after "
                        + waitSeconds + " s");
                }
            }
            out.flush();
            return failed == 0 ? 0 : 1;
        }
    }

    /** Waits, woken by a ZooKeeper watch on {@code /worker}, until {@code worker} has left it. */
    private boolean awaitGone(WorkerOps w, WorkerId worker) throws InterruptedException {
        long end = System.nanoTime() + waitSeconds * 1_000_000_000L;
        java.util.concurrent.Semaphore changed = new java.util.concurrent.Semaphore(0);
        try (var watch = w.namespace().watchAnchors("/worker", changed::release)) {
            while (true) {
                var l = w.namespace().listAnchors("/worker", false);
                if (l.entries().stream().noneMatch(x -> x.worker().equals(worker))) {
                    return true;
                }
                long left = end - System.nanoTime();
                if (left <= 0 || !changed.tryAcquire(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    return false;
                }
                changed.drainPermits();
            }
        }
    }
}
