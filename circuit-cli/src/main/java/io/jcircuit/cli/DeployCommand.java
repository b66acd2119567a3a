package io.jcircuit.cli;

import io.jcircuit.Deadline;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.Deployment;
import io.jcircuit.runtime.host.Deployments;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarFile;

/**
 * {@code circuit deploy}: pushes an application jar into every host's jar cache and records it in the
 * durable store as the next version of a deployment, which a spawn can then name
 * ({@link io.jcircuit.SpawnOptions#withDeployment}). The jar goes to the hosts first, the record
 * second, so a recorded deployment is on every host that ran at the time.
 */
@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = {"Push an application jar to every host's jar cache and record it as a deployment NAME:VERSION.",
        "The deployment is kept in the durable store under " + Deployment.ROOT + "/NAME/VERSION, signed with the cluster "
            + "key when there is one. A spawn names it with SpawnOptions.withDeployment(\"NAME\") (latest) or "
            + "(\"NAME:VERSION\"). The same jar deployed again under the same name keeps its version. --list shows the "
            + "deployments (of NAME only, when given); with the key, records not signed with it are reported as refused. "
            + "--remove NAME:VERSION removes one version: no spawn or swap can name it, its number is not given again, "
            + "workers that run it run on, and hosts let its jar go.",
        "Examples: circuit deploy target/app-1.2.jar   circuit deploy app.jar --name shop   circuit deploy --list   "
            + "circuit deploy --remove shop:1"})
final class DeployCommand implements Callable<Integer> {

    /** How long the hosts have to pull the jar. */
    static final Duration PUSH_TIMEOUT = Duration.ofMinutes(30);

    @Parameters(index = "0", arity = "0..1", paramLabel = "APP.jar",
        description = "The jar to deploy; with --list, the NAME to list.")
    String target;

    @Option(names = "--name", paramLabel = "NAME",
        description = "The deployment's name. Default: the jar's file name without its version and '.jar' "
            + "(app-1.2.jar: app).")
    String name;

    @Option(names = "--list", description = "List the deployments instead.")
    boolean list;

    @Option(names = "--remove", paramLabel = "NAME:VERSION",
        description = "Remove that version of a deployment instead of deploying.")
    String remove;

    @Option(names = "--json", description = "Print one JSON object; no progress bar.")
    boolean json;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (list && remove != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give --list or --remove, not both");
        }
        if (list) {
            return list();
        }
        if (remove != null) {
            if (target != null || name != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--remove takes no jar and no --name: give NAME:VERSION to it alone");
            }
            return remove();
        }
        if (target == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give the jar to deploy, or --list");
        }
        Path jar = Path.of(target).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException((Files.isDirectory(jar) ? target + " is a directory, not a jar" : "no such jar: " + target)
                + (target.endsWith(".jar") ? "" : " (with --list, the name goes after it: deploy --list NAME)"));
        }
        String deployName;
        try {
            deployName = Deployment.checkName(name != null ? name : defaultName(jar.getFileName().toString()));
        } catch (IllegalArgumentException e) {
            // the name came from the jar's file name: say so, and how to give one
            throw name != null ? e : new IllegalArgumentException(e.getMessage() + " (taken from the jar's file name;"
                + " give one with --name)", e);
        }
        try (WorkerOps w = WorkerOps.open(where, keys)) {
            Pushed p = deploy(w.namespace(), w.deployments(), w.client(), jar, deployName, spec.commandLine().getErr(), json);
            report(p.recorded(), p.fetched());
        }
        return 0;
    }

    /** The deployment recorded, and whether it is new or the same jar deployed before. */
    record Recorded(Deployment deployment, boolean created) {
    }

    /** What a deploy did: the record, and per host whether it fetched the jar. */
    record Pushed(Recorded recorded, Map<String, Boolean> fetched) {
    }

    /**
     * Deploys {@code jar} as the next version of {@code deployName}: every host's cache gets it (pulled
     * from {@code client}), then {@code records} records it (signed when it has the cluster key), with the
     * manifest's {@code Implementation-Version}. What {@code circuit deploy}, {@code swap --jar} and
     * {@code circuit demo swap} do.
     *
     * @throws IllegalArgumentException when {@code deployName} is no deployment name or {@code jar} is no
     *         readable jar, before anything is pushed
     */
    static Pushed deploy(Namespace ns, Deployments records, io.jcircuit.Circuit client, Path jar, String deployName,
                         java.io.PrintWriter err, boolean quiet) throws InterruptedException {
        Deployment.checkName(deployName); // before any host is asked: a push of a jar that cannot be recorded stays in every cache
        checkReadableJar(jar); // whatever deploys (deploy, swap --jar) records only a jar
        String implementationVersion = implementationVersion(jar);
        List<Hosts.Host> hosts = Hosts.list(ns);
        if (hosts.isEmpty()) {
            throw new IllegalStateException("no host runs in this circuit to deploy to; start one with 'circuit start'");
        }
        // packs nothing: a jar file is served as it is
        ClasspathJars files = new ClasspathJars(ClasspathJars.defaultPackDir());
        JarRef ref = files.of(jar.toString()).getFirst();
        Map<String, Boolean> fetched = push(client, hosts, ref, files, err, quiet);
        Recorded r = record(records, new Deployment(deployName, 1, ref.sha256(), ref.size(), ref.name(),
            Instant.now().truncatedTo(ChronoUnit.MILLIS), implementationVersion));
        return new Pushed(r, fetched);
    }

    /**
     * Has every host pull {@code ref} from {@code files} at once, drawing the bytes pulled over all
     * hosts. Returns, per host, whether it fetched the jar (false: it had it).
     */
    private static Map<String, Boolean> push(io.jcircuit.Circuit client, List<Hosts.Host> hosts, JarRef ref, ClasspathJars files,
                                             java.io.PrintWriter err, boolean quiet) throws InterruptedException {
        AtomicLong pulled = new AtomicLong();
        JarSource counting = (sha256, offset, length) -> {
            byte[] b = files.read(sha256, offset, length);
            pulled.addAndGet(b.length);
            return b;
        };
        JarSource exported = client.ref(JarSource.class, counting);
        Map<String, CompletableFuture<Boolean>> calls = new LinkedHashMap<>();
        for (Hosts.Host h : hosts) {
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            calls.put(h.name(), f);
            Thread.ofVirtual().name("deploy-" + h.name()).start(() -> {
                try {
                    HostService hs = client.worker(h.entry().address()).dial(HostService.SERVICE, HostService.class);
                    f.complete(Deadline.within(PUSH_TIMEOUT, () -> hs.offerJar(ref, exported)));
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
        }
        Progress bar = new Progress(err, "deploy " + ref.name(), quiet);
        long total = ref.size() * hosts.size();
        CompletableFuture<Void> all = CompletableFuture.allOf(calls.values().toArray(CompletableFuture[]::new));
        while (!all.isDone()) {
            bar.show(done(calls, ref, pulled), total, detail(pulled.get(), hosts.size()));
            try {
                all.get(100, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // draw again, or report the failure below
            }
        }
        long failedHosts = calls.values().stream().filter(CompletableFuture::isCompletedExceptionally).count();
        bar.end(failedHosts == 0 ? total : Math.min(total, done(calls, ref, pulled)), total,
            detail(pulled.get(), hosts.size()) + (failedHosts == 0 ? "" : ", " + failedHosts + " failed"));
        Map<String, Boolean> out = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        calls.forEach((host, f) -> {
            try {
                out.put(host, f.join());
            } catch (RuntimeException e) {
                failed.add(host + ": " + WorkerOps.why(e.getCause() != null ? e.getCause() : e));
            }
        });
        if (!failed.isEmpty()) {
            throw new IllegalStateException("could not push " + ref.name() + " to every host, so it is not recorded: "
                + String.join("; ", failed));
        }
        return out;
    }

    /** Bytes pulled so far, plus a whole jar for every host that answered that it had it. */
    private static long done(Map<String, CompletableFuture<Boolean>> calls, JarRef ref, AtomicLong pulled) {
        long had = calls.values().stream().filter(f -> f.isDone() && !f.isCompletedExceptionally() && !f.join()).count();
        return pulled.get() + had * ref.size();
    }

    private static String detail(long pulled, int hosts) {
        return Progress.mib(pulled) + " pushed, " + hosts + " host(s)";
    }

    /**
     * Records {@code d} as the next version of its name, unless a version of that name already has the
     * same jar. Two deploys racing for one version number both succeed: the loser takes the next one.
     * A record {@code records} refuses (not signed with its key) is not taken for the jar it names, and
     * keeps its number: the jar gets a version after it.
     */
    static Recorded record(Deployments records, Deployment d) {
        Deployments.Listed versions = records.versions(d.name());
        for (Deployment v : versions.deployments()) {
            if (v.sha256().equals(d.sha256())) {
                return new Recorded(v, false);
            }
        }
        for (int next = versions.highestVersion() + 1; ; next++) {
            Deployment candidate = new Deployment(d.name(), next, d.sha256(), d.size(), d.fileName(), d.deployed(),
                d.implementationVersion());
            if (records.create(candidate)) {
                return new Recorded(candidate, true);
            }
        }
    }

    private void report(Recorded r, Map<String, Boolean> fetched) {
        Deployment d = r.deployment();
        PrintWriter out = spec.commandLine().getOut();
        List<String> pushed = fetched.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
        if (json) {
            Map<String, Object> o = toJson(d);
            o.put("created", r.created());
            o.put("pushedTo", pushed);
            o.put("hosts", List.copyOf(fetched.keySet()));
            out.println(Json.write(o));
        } else {
            String where = fetched.size() + " host(s)" + (pushed.size() == fetched.size() ? ""
                : ", " + (fetched.size() - pushed.size()) + " of them had it already");
            if (r.created()) {
                out.println("deployed " + d.fileName() + " as " + d.label() + " (SHA-256 " + d.shortHash() + "…, "
                    + d.size() + " bytes" + (d.implementationVersion().isEmpty() ? "" : ", version " + d.implementationVersion())
                    + ") to " + where);
            } else {
                out.println(d.fileName() + " is already deployment " + d.label() + " (SHA-256 " + d.shortHash()
                    + "…); no new version. It is on " + where);
            }
        }
        out.flush();
    }

    /**
     * Lists the deployments. With the cluster key, a record not signed with it is left out of the
     * listing and reported (on stderr, or under {@code refused} with {@code --json}), and the command
     * exits with 1, as when a name has no deployment.
     */
    private int list() {
        Deployments.Listed listed;
        Path state = NamespaceOptions.stateDir(where.dir, where.env);
        io.jcircuit.link.tls.ClusterKey key = keys.load(where.env, state);
        try (Namespace ns = where.connect()) {
            Deployments records = new Deployments(ns, key);
            listed = target != null ? records.versions(target) : records.all();
        }
        List<Deployment> all = listed.deployments();
        PrintWriter out = spec.commandLine().getOut();
        if (target != null && listed.isEmpty() && !json) {
            // an error, as ls of a missing path: on stderr, so that a script can tell it from a listing
            throw new IllegalArgumentException("no deployment named '" + target + "'");
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("deployments", all.stream().map(DeployCommand::toJson).toList());
            o.put("removed", listed.removed().stream().map(DeployCommand::toJson).toList());
            o.put("refused", listed.refused().stream().map(r -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("path", r.path());
                m.put("label", r.label());
                m.put("error", r.reason().getMessage());
                return m;
            }).toList());
            out.println(Json.write(o));
        } else if (all.isEmpty() && listed.refused().isEmpty()) {
            out.println(listed.removed().isEmpty() ? "no deployments; make one with 'circuit deploy APP.jar'"
                : "no deployments (" + listed.removed().size() + " removed); make one with 'circuit deploy APP.jar'");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"DEPLOYMENT", "SHA-256", "BYTES", "DEPLOYED", "VERSION", "FILE"});
            for (Deployment d : all) {
                rows.add(new String[] {d.label(), d.shortHash(), Long.toString(d.size()), d.deployed().toString(),
                    d.implementationVersion().isEmpty() ? "-" : d.implementationVersion(), d.fileName()});
            }
            Columns.print(out, rows);
            if (!listed.removed().isEmpty()) {
                out.println("(" + listed.removed().size() + " removed version(s) not shown: "
                    + String.join(", ", listed.removed().stream().map(Deployment::label).toList()) + ")");
            }
        }
        out.flush();
        if (!json) {
            PrintWriter err = spec.commandLine().getErr();
            listed.refused().forEach(r -> err.println("circuit deploy: refused " + r.path() + ": " + r.reason().getMessage()));
            err.flush();
        }
        // a name that has no deployment, as ls of a missing path; a refused record, as a worker that failed a verb
        return target != null && listed.isEmpty() || !listed.refused().isEmpty() ? 1 : 0;
    }

    /**
     * Removes one version ({@link Deployments#remove}), and names the workers that still run it (they run
     * on). Removing a version removed already says so and succeeds.
     */
    private int remove() {
        Deployments.Removal r;
        List<String> running;
        Path state = NamespaceOptions.stateDir(where.dir, where.env);
        io.jcircuit.link.tls.ClusterKey key = keys.load(where.env, state);
        try (Namespace ns = where.connect()) {
            r = new Deployments(ns, key).remove(remove);
            String label = r.deployment().label();
            running = ns.listAnchors("/worker", false).entries().stream()
                .filter(e -> label.equals(e.metadata().get(Deployment.CODE_KEY))).map(e -> e.worker().toString()).toList();
        }
        Deployment d = r.deployment();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> o = toJson(d);
            o.put("removedNow", r.removedNow());
            o.put("running", running);
            out.println(Json.write(o));
        } else {
            if (r.removedNow()) {
                out.println("removed deployment " + d.label() + " (SHA-256 " + d.shortHash() + "…): no spawn or swap can name"
                    + " it, and hosts let its jar go unless another deployment has it");
            } else {
                out.println("deployment " + d.label() + " was removed already, at " + d.removed());
            }
            if (!running.isEmpty()) {
                out.println(running.size() + " worker(s) still run it, and run on until they end: " + String.join(" ", running));
            }
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> toJson(Deployment d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("version", d.version());
        m.put("label", d.label());
        m.put("sha256", d.sha256());
        m.put("size", d.size());
        m.put("file", d.fileName());
        m.put("deployed", d.deployed().toString());
        m.put("implementationVersion", d.implementationVersion());
        if (d.isRemoved()) {
            m.put("removed", d.removed().toString());
        }
        return m;
    }

    /** {@code app-1.2.3-SNAPSHOT.jar} → {@code app}; {@code app.jar} → {@code app}. */
    static String defaultName(String fileName) {
        String base = fileName.endsWith(".jar") ? fileName.substring(0, fileName.length() - 4) : fileName;
        String stripped = base.replaceFirst("-[0-9][A-Za-z0-9._-]*$", "");
        return stripped.isEmpty() ? base : stripped;
    }

    /**
     * Refuses a file that is not a readable jar (a zip), before anything is started or pushed for it.
     *
     * @throws IllegalArgumentException naming the file and what the zip reader said
     */
    static void checkReadableJar(Path jar) {
        try (JarFile readable = new JarFile(jar.toFile())) {
            // opening it reads its central directory: that is the check
        } catch (IOException e) {
            throw new IllegalArgumentException(jar + " is not a readable jar: " + e.getMessage(), e);
        }
    }

    /** The jar manifest's {@code Implementation-Version}, or "" when it has none. */
    private static String implementationVersion(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            String v = f.getManifest() == null ? null : f.getManifest().getMainAttributes().getValue("Implementation-Version");
            return v == null ? "" : v.strip();
        } catch (IOException e) {
            throw new IllegalArgumentException(jar + " is not a readable jar: " + e.getMessage(), e);
        }
    }
}
