package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code circuit kill}: ends live workers (the Go Circuit's {@code 4kill}). Each closes its runtime and
 * exits through its ops service; with {@code --drain} it first withdraws its anchors and lets its calls
 * finish. The command returns once the workers have left {@code /worker}.
 */
@Command(name = "kill", mixinStandardHelpOptions = true,
    description = {"End selected workers and wait until they have left /worker.",
        "Each is asked to exit through its ops service; one that does not answer within --timeout, or any with "
            + "--force, is killed by its host.",
        "Examples:",
        "  circuit kill /wordcount/...",
        "  circuit kill --drain 10 /sumr/R0123456789abcdef"})
final class KillCommand extends WorkerVerb implements Callable<Integer> {


    @Option(names = "--drain", paramLabel = "SECONDS", description = "Drain first: withdraw anchors and wait up to SECONDS for calls in progress.")
    Integer drainSeconds;

    @Option(names = "--status", paramLabel = "STATUS", description = "The exit status the worker exits with, 0 to 255 (default 0). Not with --force.")
    Integer status;

    @Option(names = "--force", description = "Have the worker's host kill its process (SIGKILL) without asking the worker "
        + "(its exit status is then 137). Not with --drain or --status: both are asked of the worker.")
    boolean force;

    @Option(names = "--timeout", defaultValue = "10", paramLabel = "SECONDS",
        description = "How long a worker has to answer before its host kills it instead (default 10).")
    int timeoutSeconds;

    @Option(names = "--wait", defaultValue = "15", paramLabel = "SECONDS", description = "How long to wait for each worker to leave /worker, and then for its process to end (default 15).")
    int waitSeconds;


    @Override
    public Integer call() throws InterruptedException {
        if (drainSeconds != null && drainSeconds < 0) {
            throw new IllegalArgumentException("--drain must be 0 or more seconds, not " + drainSeconds);
        }
        if (status != null && (status < 0 || status > 255)) {
            throw new IllegalArgumentException("--status must be 0 to 255 (a process's exit status keeps only the low 8 bits), not "
                + status);
        }
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("--timeout must be 0 or more seconds, not " + timeoutSeconds);
        }
        if (waitSeconds < 0) {
            throw new IllegalArgumentException("--wait must be 0 or more seconds, not " + waitSeconds);
        }
        // both are asked of the worker, and --force asks it nothing: its host's SIGKILL would drop them unsaid
        if (force && status != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--status is asked of the worker, and --force asks it nothing: its host kills it "
                + "(SIGKILL, exit status 137). Give one or the other");
        }
        if (force && drainSeconds != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--drain is asked of the worker, and --force asks it nothing: its host kills it "
                + "(SIGKILL). Give one or the other");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (WorkerOps w = open()) {
            List<Entry> workers;
            try {
                workers = w.select(selector);
            } catch (IllegalArgumentException notFiled) {
                io.jcircuit.WorkerId id = WorkerOps.workerIdIn(selector);
                if (id == null) {
                    throw notFiled;
                }
                // A hung worker may have left /worker (its ZooKeeper session expired: paused, say) while its
                // process lives on. Without its entry it cannot be asked, so its host kills it, with --force or not.
                try {
                    killViaHost(w, id);
                } catch (IllegalStateException noHostRunsIt) {
                    String ended = exitStatus(w, id);
                    if (ended != null) {
                        throw new IllegalArgumentException("worker " + id + " has already ended (" + ended
                            + "; 'circuit log " + id + "' shows the end of its stderr)", notFiled);
                    }
                    throw new IllegalArgumentException(notFiled.getMessage() + ", and " + noHostRunsIt.getMessage(), notFiled);
                }
                out.println("killed " + id + " (no longer filed under /worker; its host ended its process)");
                out.flush();
                return 0;
            }
            // Host daemons are runtimes too, filed under /worker: "kill /worker/..." must not take them
            // (and the circuit's ZooKeeper with the first one) down in the middle of the list.
            Map<io.jcircuit.WorkerId, String> daemons = new java.util.HashMap<>();
            Hosts.list(w.namespace()).forEach(h -> daemons.put(h.entry().worker(), h.name()));
            int failed = 0;
            int done = 0;
            Map<io.jcircuit.WorkerId, String> runOn = w.hostDaemons(); // read before they go: the line names the daemon
            for (Entry e : workers) {
                if (e.worker().equals(w.client().id())) {
                    continue;
                }
                String daemon = daemons.get(e.worker());
                if (daemon != null) {
                    spec.commandLine().getErr().println("circuit kill: " + e.worker() + " is the host daemon " + daemon
                        + ", left running; 'circuit stop " + daemon + "' stops it");
                    continue;
                }
                done++;
                try {
                    if (force) {
                        killViaHost(w, e.worker());
                    } else {
                        askToExit(w, e);
                    }
                } catch (RuntimeException ex) {
                    failed++;
                    spec.commandLine().getErr().println("circuit kill: " + e.worker() + ": " + WorkerOps.why(ex));
                    continue;
                }
                long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L; // --wait is for each worker, both waits in it
                if (awaitGone(w, e.worker(), deadline)) {
                    // its process ends a moment after it leaves /worker: waited for too, where a host runs it, so that
                    // a second kill at once does not find it unfiled and have its host SIGKILL it as a hung one
                    String ended = runOn.containsKey(e.worker()) ? awaitExit(w, runOn.get(e.worker()), e.worker(), deadline) : null;
                    // "host" means the host daemon, as in every verb; the machine's name for a runtime no host started
                    out.println("killed " + e.worker() + " (" + Columns.printable(runOn.getOrDefault(e.worker(), e.host()))
                        + ", pid " + e.pid() + (ended == null ? "" : ", exit status " + Columns.printable(ended)) + ")");
                } else {
                    failed++;
                    spec.commandLine().getErr().println("circuit kill: " + e.worker() + " was told to exit but is still in /worker after "
                        + waitSeconds + " s");
                }
            }
            out.flush();
            return failed == 0 && done > 0 ? 0 : 1;
        }
    }

    /**
     * Asks the worker's ops service to exit (after draining, with {@code --drain}). A worker that does
     * not answer in time is killed by its host instead, when a host started it.
     */
    private void askToExit(WorkerOps w, Entry e) {
        PrintWriter out = spec.commandLine().getOut();
        try {
            if (drainSeconds != null) {
                var r = w.call(e, Duration.ofSeconds(drainSeconds + 10L), ops -> ops.drain(drainSeconds * 1000L));
                out.println(e.worker() + ": drained in " + r.waitedMillis() + " ms (" + r.anchorsWithdrawn().size()
                    + " anchors withdrawn, " + r.callsStillRunning() + " calls still running)");
            }
            w.call(e, Duration.ofSeconds(timeoutSeconds), ops -> {
                ops.exit(status == null ? 0 : status);
                return null;
            });
        } catch (io.jcircuit.WorkerDiedException gone) {
            if (io.jcircuit.link.HandshakeFailedException.caused(gone)) {
                throw gone; // it is there but would not link with us (a cluster-key mismatch): never asked
            }
            if (io.jcircuit.link.HandshakeTimeoutException.caused(gone)) {
                // it took the connection but said nothing (stopped, paused): as one that does not answer a call
                killSilent(w, e, gone);
            }
            // otherwise it went before it could answer: what was asked for
        } catch (io.jcircuit.DeadlineExceededException silent) {
            killSilent(w, e, silent);
        }
    }

    /** A worker that does not answer ({@code why}): its host kills it. */
    private void killSilent(WorkerOps w, Entry e, RuntimeException why) {
        spec.commandLine().getErr().println("circuit kill: " + e.worker() + " does not answer (" + WorkerOps.why(why)
            + "); asking its host to kill it");
        killViaHost(w, e.worker());
    }

    /**
     * Has the host that runs the worker kill its process. Every host is asked in turn (a hung worker
     * may already have lost its entry under its host when its ZooKeeper session expired); fails when
     * none runs it.
     */
    private void killViaHost(WorkerOps w, io.jcircuit.WorkerId worker) {
        List<Hosts.Host> hosts = Hosts.list(w.namespace());
        for (Hosts.Host h : hosts) {
            try {
                if (Hosts.ask(w.client(), h, hs -> hs.kill(worker))) {
                    return;
                }
            } catch (RuntimeException unreachable) {
                spec.commandLine().getErr().println("circuit kill: host " + h.name() + " did not answer: " + WorkerOps.why(unreachable));
            }
        }
        throw new IllegalStateException(Hosts.notRunningHostOf(w.namespace(), worker, hosts)
            .map(gone -> gone + (force ? "; a plain 'circuit kill' asks the worker itself to exit" : ""))
            .orElse("none of the hosts (" + Hosts.names(hosts) + ") runs it; a runtime that no host started can only end itself"));
    }

    /**
     * How a worker that no host runs ended, as the host that started it recorded in its directory:
     * {@code "exit status N, on host H"}; null when no host that answers has an exit status for it.
     */
    private static String exitStatus(WorkerOps w, io.jcircuit.WorkerId worker) {
        for (Hosts.Host h : Hosts.list(w.namespace())) {
            try {
                List<String> exit = Hosts.ask(w.client(), h, hs -> hs.workerFile(worker, "exit", 1));
                if (exit != null && !exit.isEmpty()) {
                    return "exit status " + exit.getFirst().strip() + ", on host " + h.name();
                }
            } catch (RuntimeException unreachable) {
                // reported when it was asked to kill
            }
        }
        return null;
    }

    /**
     * The exit status that host {@code daemon} recorded for {@code worker}, waiting for it until {@code deadline}
     * (what is left of {@code --wait}), at most {@link #EXIT_WAIT}; null when the host does not answer or records
     * none by then.
     */
    private String awaitExit(WorkerOps w, String daemon, WorkerId worker, long deadline) throws InterruptedException {
        Hosts.Host h = Hosts.find(w.namespace(), daemon).orElse(null);
        if (h == null) {
            return null;
        }
        long now = System.nanoTime();
        long end = deadline - now < EXIT_WAIT.toNanos() ? deadline : now + EXIT_WAIT.toNanos();
        while (true) {
            try {
                List<String> exit = Hosts.ask(w.client(), h, hs -> hs.workerFile(worker, "exit", 1));
                if (exit != null && !exit.isEmpty()) {
                    String status = exit.getFirst().strip();
                    return status.equals("-1") ? null : status; // -1: a worker the host took back, whose status it cannot know
                }
            } catch (RuntimeException unreachable) {
                return null;
            }
            if (System.nanoTime() - end >= 0) {
                return null;
            }
            Thread.sleep(EXIT_POLL.toMillis()); // the host records the status when the process ends; nothing to watch
        }
    }

    /** How long {@link #awaitExit} waits at most, and how often it asks. */
    private static final Duration EXIT_WAIT = Duration.ofSeconds(10);
    private static final Duration EXIT_POLL = Duration.ofMillis(50);

    /** Waits, woken by a ZooKeeper watch on {@code /worker}, until {@code worker} has left it or {@code end} passed. */
    private boolean awaitGone(WorkerOps w, WorkerId worker, long end) throws InterruptedException {
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
