package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.runtime.host.Deployment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code circuit ls}: the live namespace, as the Go Circuit's {@code 4ls} showed it. */
@Command(name = "ls", mixinStandardHelpOptions = true,
    description = {"List the anchors of the live namespace.",
        "PATH lists one directory; PATH/... lists everything below it; DIR/R<id> (or R<id>: /worker/R<id>) one entry.",
        "Directories end in '/'. A PATH with nothing filed in or below it is an error (exit status 1).",
        "Examples: circuit ls /   circuit ls -l /worker   circuit ls /wordcount/..."})
final class LsCommand implements Callable<Integer> {

    /**
     * The directories that are there however empty: the root, and those every circuit has, whose empty
     * listing is an answer (no runtime, no host) rather than a mistyped path.
     */
    static final java.util.Set<String> ALWAYS_THERE = java.util.Set.of("/", "/worker", Hosts.DIR);

    @Parameters(index = "0", arity = "0..1", defaultValue = "/", paramLabel = "PATH", description = "Directory to list (default /).")
    String path;

    @Option(names = "-l", description = "Long form: address, host, pid, start time and code version of each entry "
        + "(the short form marks only the JVMs a host keeps warm, as standby).")
    boolean longForm;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Mixin
    NamespaceOptions where;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        WorkerOps.Selection t = WorkerOps.Selection.of(path);
        String dir = t.dir();
        String only = t.only(); // one entry: list its directory and keep it
        Listing<Entry> l;
        Map<WorkerId, String> daemons;
        try (Namespace ns = where.connect()) {
            l = ns.listAnchors(dir, t.recursive());
            // the host of an entry is the host daemon that runs it, as in top and peek; the machine's name for a runtime no host started
            daemons = longForm || json ? Hosts.byWorker(ns) : Map.of();
        }
        List<Entry> entries = new ArrayList<>(l.entries());
        List<String> dirs = new ArrayList<>(l.directories());
        if (only != null) {
            String wanted = only;
            entries.removeIf(e -> !e.path().equals(wanted));
            dirs.clear();
            if (entries.isEmpty()) {
                throw new IllegalArgumentException("no entry " + only);
            }
        } else if (entries.isEmpty() && dirs.isEmpty() && !ALWAYS_THERE.contains(dir)) {
            // ZooKeeper removes an anchor directory once it is empty: one that lists nothing is not there
            throw new IllegalArgumentException("no such anchor directory " + dir + ": nothing is filed in it or below it");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", l.path());
            o.put("revision", l.revision());
            o.put("directories", dirs);
            List<Object> es = new ArrayList<>();
            for (Entry e : entries) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("path", e.path());
                m.put("worker", e.worker().toString());
                m.put("address", e.address().toString());
                m.put("host", daemons.getOrDefault(e.worker(), e.host()));
                m.put("machine", e.host());
                m.put("pid", e.pid());
                m.put("started", e.started().toString());
                m.put("metadata", e.metadata());
                es.add(m);
            }
            o.put("entries", es);
            out.println(Json.write(o));
        } else {
            List<String[]> rows = new ArrayList<>();
            for (String d : dirs) {
                rows.add(new String[] {d + "/"});
            }
            for (Entry e : entries) {
                rows.add(longForm
                    ? new String[] {e.path(), e.address().toString(), daemons.getOrDefault(e.worker(), e.host()), "pid " + e.pid(), e.started().toString(),
                        codeOf(e)}
                    : WorkerOps.isStandby(e) ? new String[] {e.path(), "standby"} : new String[] {e.path()});
            }
            rows.sort((a, b) -> a[0].compareTo(b[0]));
            Columns.print(out, rows);
        }
        out.flush();
        return 0;
    }

    /**
     * The code a spawned worker runs, as it filed it: {@code NAME:VERSION} of a deployment, or
     * {@code spawner-classpath}; {@code standby} for a JVM a host keeps warm, that no spawn has taken
     * yet; {@code -} for a runtime no host started (a client, a host daemon).
     */
    static String codeOf(Entry e) {
        if (WorkerOps.isStandby(e)) {
            return "standby";
        }
        String code = e.metadata().get(Deployment.CODE_KEY);
        return code == null ? "-" : code.replace(' ', '-');
    }

    /**
     * A durable PATH argument ({@code dls}): a directory, listed directly, or {@code DIR/...}, listed at any
     * depth. A trailing slash is dropped, since {@code dls} prints directories with one.
     */
    record Target(String dir, boolean recursive) {
        static Target of(String arg) {
            String s = WorkerOps.withoutTrailingSlash(arg);
            String dir = WorkerOps.Selection.withoutDots(s);
            return new Target(dir, !dir.equals(s));
        }
    }
}
