package io.jcircuit.cli;

import io.jcircuit.Deadline;
import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.Paths;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.Deployments;
import io.jcircuit.runtime.ops.Ops;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What the verbs that talk to live workers share: the namespace, a client runtime (no namespace of
 * its own, so it never shows up among the workers) secured with the cluster key when there is one,
 * and selectors that name workers by anchor.
 *
 * <p>A selector is {@code /dir} (the workers filed directly in it), {@code /dir/...} (at any depth
 * below it), {@code /dir/R…} (one entry), or a bare worker id {@code R…}. Every selected worker appears
 * once, however many of its entries matched.
 */
final class WorkerOps implements AutoCloseable {

    private final Namespace ns;
    private final CircuitRuntime client;
    private final Deployments deployments;

    private WorkerOps(Namespace ns, CircuitRuntime client, Deployments deployments) {
        this.ns = ns;
        this.client = client;
        this.deployments = deployments;
    }

    static WorkerOps open(NamespaceOptions where, KeyOptions keys) {
        return open(where, keys, false);
    }

    /**
     * With {@code joined}, the client runtime joins the namespace too (it files itself under
     * {@code /worker} while it runs): what spawning needs, as {@code swap} does.
     */
    static WorkerOps open(NamespaceOptions where, KeyOptions keys, boolean joined) {
        Namespace ns = where.connect();
        try {
            Path state = NamespaceOptions.stateDir(where.dir, where.env);
            ClusterKey key = keys == null ? null : keys.load(where.env, state);
            RuntimeConfig.Builder b = RuntimeConfig.builder().defaultCallTimeoutMs(10_000).clusterKey(key);
            if (joined) {
                b.zookeeper(ns.config().connectString());
            }
            return new WorkerOps(ns, CircuitRuntime.start(b.build()), new Deployments(ns, key));
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    Namespace namespace() {
        return ns;
    }

    CircuitRuntime client() {
        return client;
    }

    /** The deployment records, signed and checked with the client's cluster key. */
    Deployments deployments() {
        return deployments;
    }

    /** {@code path} without one trailing slash ({@code ls} prints directories with one); {@code /} stays. */
    static String withoutTrailingSlash(String path) {
        return path.length() > 1 && path.endsWith("/") && !path.endsWith("//") ? path.substring(0, path.length() - 1) : path;
    }

    /** A worker id named by {@code selector} ({@code R…} or {@code /worker/R…}), or null: a worker that may have left /worker. */
    static WorkerId workerIdIn(String selector) {
        String s = selector.trim();
        if (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.startsWith("/worker/")) {
            s = s.substring("/worker/".length());
        }
        return WorkerId.looksLikeWorkerId(s) && !s.equals("R0000000000000000") ? WorkerId.parse(s) : null;
    }

    /**
     * The workers {@code selector} names, each once, ordered by path.
     *
     * @throws IllegalArgumentException for a malformed selector, or one that names no worker
     */
    /**
     * The host daemon each worker runs under, by worker id: the {@code NAME} of the {@code /host/NAME}
     * directory it is filed in (a daemon's own runtime is filed there too). A worker no host started is
     * not in it; nor is any when the namespace cannot be listed now.
     */
    Map<io.jcircuit.WorkerId, String> hostDaemons() {
        try {
            return Hosts.byWorker(ns);
        } catch (RuntimeException unlisted) {
            return Map.of(); // the machine's name stands in, as for a worker no host started
        }
    }

    List<Entry> select(String selector) {
        String s = withoutTrailingSlash(selector.trim());
        if (WorkerId.looksLikeWorkerId(s)) {
            s = "/worker/" + WorkerId.parse(s); // as ids are written: R7F... names R7f...
        } else if (!s.startsWith("/") && !s.equals("...")) {
            throw new IllegalArgumentException("'" + s + "' is neither a worker id (R followed by 16 hex digits)"
                + " nor an anchor path (starting with '/')");
        }
        boolean recursive = false;
        if (s.equals("...") || s.equals("/...")) {
            s = "/";
            recursive = true;
        } else if (s.endsWith("/...")) {
            s = s.substring(0, s.length() - 4);
            recursive = true;
        }
        String only = null;
        int slash = s.lastIndexOf('/');
        if (!recursive && slash >= 0 && WorkerId.looksLikeWorkerId(s.substring(slash + 1))) {
            only = s.substring(0, slash + 1) + WorkerId.parse(s.substring(slash + 1));
            s = slash == 0 ? "/" : s.substring(0, slash);
        }
        Paths.anchorDir(s, false);
        Listing<Entry> l = ns.listAnchors(s, recursive);
        Map<WorkerId, Entry> byWorker = new LinkedHashMap<>();
        for (Entry e : l.entries()) {
            if (only == null || e.path().equals(only)) {
                byWorker.putIfAbsent(e.worker(), e);
            }
        }
        if (byWorker.isEmpty()) {
            throw new IllegalArgumentException(only != null ? "no entry " + only
                : "no worker is filed " + (recursive ? "at or below " : "in ") + s
                    + (recursive ? "" : "; try " + (s.equals("/") ? "" : s) + "/... to look deeper, or 'circuit ls " + s + "'"));
        }
        List<Entry> out = new ArrayList<>(byWorker.values());
        out.sort(java.util.Comparator.comparing(Entry::path));
        return out;
    }

    /** The ops service of the worker behind {@code e}. */
    Ops ops(Entry e) {
        return client.worker(e.address()).dial(Ops.SERVICE, Ops.class);
    }

    /** Runs {@code call} on the ops of {@code e} within {@code timeout}. */
    <R> R call(Entry e, Duration timeout, Function<Ops, R> call) {
        return Deadline.within(timeout, () -> call.apply(ops(e)));
    }

    @Override
    public void close() {
        try {
            client.close();
        } finally {
            ns.close();
        }
    }

    /** A failure in a few words: its message, or its type when it has none. */
    static String why(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** A short worker id for tables: the first 9 characters. */
    static String shortId(String worker) {
        return worker.length() > 9 ? worker.substring(0, 9) : worker;
    }

    /**
     * Refuses, before any worker is asked to do the work, an output file that could not be written:
     * its directory is missing, is not a directory, or is not writable.
     *
     * @throws IllegalArgumentException naming the file and why
     */
    static void checkWritable(Path file) {
        Path dir = file.toAbsolutePath().normalize().getParent();
        if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot write " + file + ": no directory " + dir);
        }
        if (!java.nio.file.Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot write " + file + ": directory " + dir + " is not writable");
        }
    }
}
