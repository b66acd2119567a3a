package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.runtime.host.Deployments;
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
 * withdraws its anchors, lingers while callers follow the move, and retires (exits once nothing it handed out is held).
 */
@Command(name = "swap", mixinStandardHelpOptions = true,
    description = {"Replace the services of selected workers with another version of their code, one worker at a time.",
        "Each gets a replacement on its host that takes over its state (Swappable), its anchors and its callers; "
            + "the old worker then exits, once no other runtime holds a reference to an object it handed out (those keep "
            + "working there, in the old code). A replacement that cannot take over rolls back, and the swap stops there.",
        "Example: circuit swap /sumr/... --deployment sumr:2"})
final class SwapCommand extends WorkerVerb implements Callable<Integer> {

    static final class Code {
        @Option(names = "--deployment", required = true, paramLabel = "NAME[:VERSION]",
            description = "The code to swap in: a deployment made with 'circuit deploy' (latest version by default).")
        String deployment;

        @Option(names = "--jar", required = true, paramLabel = "FILE",
            description = "The code to swap in: a jar, deployed first as 'circuit deploy FILE' would.")
        java.nio.file.Path jar;
    }

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    Code code;

    @Option(names = "--name", paramLabel = "NAME",
        description = "With --jar: the deployment's name, as 'circuit deploy --name' takes it. Default: the jar's file "
            + "name without its version and '.jar'.")
    String name;

    @Option(names = "--parallel", defaultValue = "1", paramLabel = "N",
        description = "Workers swapped at once (default 1: one at a time). The first failure stops the rest.")
    int parallel;

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
        if (parallel < 1) {
            throw new IllegalArgumentException("--parallel must be at least 1");
        }
        if (drainSeconds < 0 || lingerSeconds < 0) {
            // checked before anything starts: a bad value met midway left a swap half done
            throw new IllegalArgumentException("--drain and --linger must be 0 or more seconds, not "
                + (drainSeconds < 0 ? drainSeconds : lingerSeconds));
        }
        if (name != null && code.jar == null) {
            throw new IllegalArgumentException("--name goes with --jar: a --deployment names its deployment itself");
        }
        String deployName = null;
        if (code.jar != null) {
            // checked before anything starts: the jar would be pushed to every host and then not recorded
            if (!java.nio.file.Files.isRegularFile(code.jar)) {
                throw new IllegalArgumentException("no such jar: " + code.jar);
            }
            deployName = io.jcircuit.runtime.host.Deployment.checkName(
                name != null ? name : DeployCommand.defaultName(code.jar.getFileName().toString()));
            DeployCommand.checkReadableJar(code.jar);
        }
        PrintWriter out = out();
        List<Object> swapped = new ArrayList<>();
        String deployment = code.deployment;
        WorkerOps.checkSelector(selector); // before the client starts
        try (WorkerOps w = WorkerOps.open(where, keys, true)) { // spawning needs the namespace
            if (deployment != null) {
                checkDeployment(w.namespace(), w.deployments(), deployment); // before any worker is asked: it fails each spawn else
            }
            List<Entry> workers = w.select(selector);
            if (code.jar != null) {
                java.nio.file.Path jar = code.jar.toAbsolutePath();
                deployment = DeployCommand.deploy(w.namespace(), w.deployments(), w.client(), jar, deployName,
                    spec.commandLine().getErr(), json).recorded().deployment().label();
                if (!json) {
                    out.println("deployed " + jar.getFileName() + " as " + deployment);
                }
            }
            // each replacement lives as long as its old worker would have (daemonized, or ending with its
            // spawner), not as long as this command: Swapper.lifetimeOf
            Swapper swapper = new Swapper(w.client(), dir -> w.namespace().listAnchors(dir, true).entries(),
                SpawnOptions.defaults().withDeployment(deployment), Duration.ofSeconds(drainSeconds),
                Duration.ofSeconds(lingerSeconds));
            // Ctrl-C or a kill midway: say which workers were under way, each of which finishes alone (README)
            PrintWriter stoppedErr = spec.commandLine().getErr();
            Thread stopped = new Thread(() -> {
                List<io.jcircuit.WorkerId> left = List.copyOf(underWay);
                if (!left.isEmpty()) {
                    stoppedErr.println("circuit swap: stopped with " + left.size() + " worker(s) under way ("
                        + String.join(" ", left.stream().map(Object::toString).toList()) + "): each finishes its swap alone"
                        + " once its take-over went on or back; the workers not begun on are left as they were");
                    stoppedErr.flush();
                }
            }, "circuit-swap-stopped");
            Runtime.getRuntime().addShutdownHook(stopped);
            Run run;
            try {
                run = swapAll(swapper, workers, s -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("old", s.oldWorker());
                    m.put("new", s.newWorker());
                    m.put("host", s.host());
                    m.put("services", s.services());
                    m.put("anchors", s.anchors());
                    m.put("millis", s.millis());
                    m.put("old_held", s.oldHeld());
                    m.put("started_empty", s.startedEmpty());
                    swapped.add(m);
                    if (!json) {
                        out.println("swapped " + s.oldWorker() + " -> " + s.newWorker() + " on " + s.host() + ": "
                            + String.join(", ", s.services()) + " (" + s.millis() + " ms)" + (s.oldHeld() == 0 ? ""
                            : "; the old worker exits once the " + s.oldHeld() + " object(s) other runtimes hold there are dropped")
                            + (s.startedEmpty().isEmpty() ? "" : "; " + String.join(", ", s.startedEmpty())
                            + " handed over no state (not Swappable): started as new"));
                        out.flush();
                    }
                });
            } finally {
                ShutdownHooks.unhook(stopped);
            }
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("swapped", swapped);
                o.put("deployment", deployment);
                if (!run.failed().isEmpty()) {
                    o.put("failed", run.failed().entrySet().stream().map(f -> {
                        Map<String, Object> m = new LinkedHashMap<>(); // in this order, as every object swap prints
                        m.put("worker", f.getKey().toString());
                        m.put("error", f.getValue());
                        return m;
                    }).toList());
                    o.put("left", run.notTried().stream().map(Object::toString).toList());
                }
                out.println(Json.write(o));
            }
            out.flush();
            if (!run.failed().isEmpty()) {
                // the workers swapped before are listed above (or in the JSON); the failed ones were rolled back
                PrintWriter err = spec.commandLine().getErr();
                err.println("circuit swap: swap stopped: " + run.failed().entrySet().stream()
                    .map(f -> f.getKey() + ": " + f.getValue()).collect(java.util.stream.Collectors.joining("; "))
                    + " (" + run.swapped() + " swapped, " + (workers.size() - run.swapped()) + " left as they were: "
                    + run.failed().size() + " failed" + (run.notTried().isEmpty() ? "" : ", " + run.notTried().size()
                    + " not tried: " + run.notTried().stream().map(Object::toString)
                    .collect(java.util.stream.Collectors.joining(" "))) + ")");
                err.flush();
                return 1;
            }
        }
        return 0;
    }

    /**
     * Refuses a {@code --deployment} that names no deployment, or a version it does not have, and says
     * what there is; or one whose record {@code records} does not trust (not signed with the cluster key).
     */
    static void checkDeployment(io.jcircuit.anchor.Namespace ns, Deployments records, String selector) {
        if (!selector.matches(SpawnOptions.DEPLOYMENT_PATTERN)) {
            throw new IllegalArgumentException("--deployment " + selector + ": give NAME or NAME:VERSION");
        }
        int colon = selector.indexOf(':');
        String name = colon < 0 ? selector : selector.substring(0, colon);
        Deployments.Listed versions = records.versions(name);
        if (versions.isEmpty()) {
            List<String> names = ns.listDurable(io.jcircuit.runtime.host.Deployment.ROOT, true).entries().stream()
                .map(st -> st.path().split("/")).filter(p -> p.length == 4).map(p -> p[2]).distinct().sorted().toList();
            throw new IllegalArgumentException("--deployment " + selector + ": no deployment named '" + name + "'; "
                + (names.isEmpty() ? "there are none: make one with 'circuit deploy APP.jar'"
                : "there are " + String.join(", ", names) + " ('circuit deploy --list' shows their versions)"));
        }
        if (colon >= 0) {
            int version = Integer.parseInt(selector.substring(colon + 1));
            boolean removed = versions.removed().stream().anyMatch(d -> d.version() == version);
            if (!removed && !versions.labels().contains(name + ":" + version)) {
                throw new IllegalArgumentException("--deployment " + selector + ": deployment '" + name + "' has no version "
                    + version + "; it has " + String.join(", ", versions.labels()));
            }
        }
        try {
            records.resolve(selector);
        } catch (SecurityException e) {
            throw new SecurityException("--deployment " + selector + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) { // a removed version, or every version removed
            throw new IllegalArgumentException("--deployment " + selector + ": " + e.getMessage(), e);
        }
    }

    /**
     * What a run of swaps did: how many workers it swapped, the workers whose swap failed (rolled back,
     * each with why) and those it did not try, the batches after the failure.
     */
    private record Run(int swapped, Map<io.jcircuit.WorkerId, String> failed, List<io.jcircuit.WorkerId> notTried) {
    }

    /**
     * Swaps {@code workers} in batches of {@link #parallel}, each batch at once, handing each swap done to
     * {@code each} as soon as it and those before it in its batch are; a failure ends the run after its
     * batch, leaving the later workers as they were.
     */
    /** The old workers whose swap has begun and not ended. */
    private final java.util.Set<io.jcircuit.WorkerId> underWay = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Run swapAll(Swapper swapper, List<Entry> workers, java.util.function.Consumer<Swapper.Swapped> each)
            throws InterruptedException {
        int done = 0;
        Map<io.jcircuit.WorkerId, String> failed = new LinkedHashMap<>();
        for (int from = 0; from < workers.size() && failed.isEmpty(); from += parallel) {
            List<Entry> batch = workers.subList(from, Math.min(workers.size(), from + parallel));
            try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                List<java.util.concurrent.Future<Swapper.Swapped>> running = new ArrayList<>();
                for (Entry old : batch) {
                    underWay.add(old.worker());
                    running.add(pool.submit(() -> {
                        try {
                            return swapper.swap(old, service);
                        } finally {
                            underWay.remove(old.worker());
                        }
                    }));
                }
                for (int i = 0; i < batch.size(); i++) {
                    try {
                        each.accept(running.get(i).get());
                        done++;
                    } catch (java.util.concurrent.ExecutionException e) {
                        failed.put(batch.get(i).worker(), WorkerOps.why(e.getCause()));
                    }
                }
            }
            if (!failed.isEmpty()) {
                List<io.jcircuit.WorkerId> notTried = workers.subList(from + batch.size(), workers.size()).stream()
                    .map(Entry::worker).toList();
                return new Run(done, failed, notTried);
            }
        }
        return new Run(done, failed, List.of());
    }
}
