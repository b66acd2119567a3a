package io.jcircuit.cli;

import io.jcircuit.Entry;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/**
 * What the verbs that act on selected workers share: the SELECTOR, where the namespace is, the cluster
 * key, and the rule that one worker's failure is reported and the others are still served (the exit
 * status is then 1).
 */
abstract class WorkerVerb {

    @Parameters(index = "0", paramLabel = "SELECTOR",
        description = "Which workers: /dir (filed in it), /dir/... (at any depth), /dir/R<id> (one entry) or R<id>.")
    String selector;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Spec
    CommandSpec spec;

    /** What a verb does to one worker; may throw, which counts as that worker's failure. */
    @FunctionalInterface
    interface PerWorker {
        void run(Entry worker);
    }

    /** The client for this command, started once the selector is known to be well-formed. */
    WorkerOps open() {
        WorkerOps.checkSelector(selector);
        return WorkerOps.open(where, keys);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /**
     * Runs {@code action} on every selected worker in order, reporting each failure on stderr as
     * {@code circuit VERB: R…: why}. Returns how many failed.
     */
    int forEachWorker(WorkerOps w, PerWorker action) {
        return forEachWorker(w, action, (e, why) -> { });
    }

    /** {@link #forEachWorker(WorkerOps, PerWorker)}, also telling {@code failed} of each worker that failed, and why. */
    int forEachWorker(WorkerOps w, PerWorker action, java.util.function.BiConsumer<Entry, String> failed) {
        int failures = 0;
        for (Entry e : w.select(selector)) {
            try {
                action.run(e);
            } catch (RuntimeException ex) {
                failures++;
                String why = WorkerOps.why(ex);
                spec.commandLine().getErr().println("circuit " + spec.name() + ": " + e.worker() + ": " + why);
                failed.accept(e, why);
            }
        }
        return failures;
    }
}
