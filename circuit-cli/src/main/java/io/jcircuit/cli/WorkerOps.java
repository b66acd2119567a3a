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
import io.jcircuit.runtime.host.HostService;
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

    /**
     * How often a verb that streams from workers ({@code log -f}, {@code heap --dump}) looks whether they are
     * still filed under {@code /worker} while nothing comes from them: one that was killed sends no end.
     */
    static final long LIVENESS_NANOS = 1_000_000_000L;

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

    /**
     * {@code selector} trimmed, once it is known to be a worker id or an anchor path: a command checks it before
     * it starts its client, so that a mistyped one is refused at once rather than after a second's start.
     *
     * @throws IllegalArgumentException for a malformed selector
     */
    static String checkSelector(String selector) {
        String s = selector.trim();
        String bare = Selection.withoutDots(withoutTrailingSlash(s));
        if (!bare.startsWith("/") && !WorkerId.looksLikeWorkerId(bare)) {
            throw new IllegalArgumentException("'" + s + "' is neither a worker id (R followed by 16 hex digits)"
                + " nor an anchor path (starting with '/')");
        }
        return s;
    }

    /**
     * The workers {@code selector} names, each once, ordered by path. A directory leaves out the JVMs
     * hosts keep warm ({@link HostService#STANDBY_KEY}): no spawn has taken them yet; one named by its
     * path or id is kept.
     *
     * @throws IllegalArgumentException for a malformed selector, or one that names no worker
     */
    List<Entry> select(String selector) {
        String s = checkSelector(selector);
        Selection sel = Selection.of(s);
        Listing<Entry> l = ns.listAnchors(sel.dir(), sel.recursive());
        Map<WorkerId, Entry> byWorker = new LinkedHashMap<>();
        int standby = 0;
        for (Entry e : l.entries()) {
            if (sel.only() != null && !e.path().equals(sel.only())) {
                continue;
            }
            if (sel.only() == null && isStandby(e)) {
                standby++;
                continue;
            }
            byWorker.putIfAbsent(e.worker(), e);
        }
        if (byWorker.isEmpty()) {
            String d = sel.dir();
            throw new IllegalArgumentException(sel.only() != null ? "no entry " + sel.only()
                : "no worker is filed " + (sel.recursive() ? "at or below " : "in ") + d
                    + (standby > 0 ? " (only " + standby + " warm JVM" + (standby == 1 ? "" : "s")
                        + " that hosts keep ready for spawns, which no spawn has taken yet)" : "")
                    + (sel.recursive() ? "" : "; try " + (d.equals("/") ? "" : d) + "/... to look deeper, or 'circuit ls " + d + "'"));
        }
        List<Entry> out = new ArrayList<>(byWorker.values());
        out.sort(java.util.Comparator.comparing(Entry::path));
        return out;
    }

    /** A JVM a host keeps warm, filed under {@code /worker} but not taken by a spawn yet. */
    static boolean isStandby(Entry e) {
        return "true".equals(e.metadata().get(HostService.STANDBY_KEY));
    }

    /**
     * What an anchor PATH ({@code ls}) or SELECTOR names: the directory {@code dir}, directly or at any
     * depth, and with {@code only} the one entry of that path in it. {@code /dir/R<id>} names an entry,
     * with its id as {@link WorkerId} writes it; so does {@code /dir/R<id>/...}, as nothing is filed below an
     * entry; a bare {@code R<id>} is {@code /worker/R<id>}. A trailing slash is dropped, since {@code ls}
     * prints directories with one.
     */
    record Selection(String dir, boolean recursive, String only) {

        /**
         * @throws IllegalArgumentException for a path that is malformed or goes below an entry (no directory
         *     is named like a worker id), saying why
         */
        static Selection of(String arg) {
            String s = withoutTrailingSlash(arg);
            boolean recursive = !withoutDots(s).equals(s);
            s = withoutDots(s);
            if (WorkerId.looksLikeWorkerId(s)) {
                s = "/worker/" + s;
            }
            int slash = s.lastIndexOf('/');
            if (slash >= 0 && WorkerId.looksLikeWorkerId(s.substring(slash + 1))) {
                String dir = slash == 0 ? "/" : s.substring(0, slash);
                checkDir(dir);
                // as ids are written: R7F... names R7f...
                return new Selection(dir, false, (slash == 0 ? "" : dir) + "/" + WorkerId.parse(s.substring(slash + 1)));
            }
            checkDir(s);
            return new Selection(s, recursive, null);
        }

        /** {@code s} without a last {@code /...}: {@code /} for {@code ...} and {@code /...}. */
        static String withoutDots(String s) {
            if (s.equals("...") || s.equals("/...")) {
                return "/";
            }
            return s.endsWith("/...") ? s.substring(0, s.length() - 4) : s;
        }

        private static void checkDir(String dir) {
            if (dir.startsWith("/")) {
                for (String c : dir.substring(1).split("/", -1)) {
                    if (WorkerId.looksLikeWorkerId(c)) {
                        // anchor directories are refused names like these when runtimes file themselves (Paths.anchorDir)
                        throw new IllegalArgumentException("no such anchor directory " + dir + ": " + c + " is a worker id, which"
                            + " names an entry, and nothing is filed below an entry (no directory is named like a worker id)");
                    }
                }
            }
            Paths.anchorDir(dir, false);
        }
    }

    /** The ops service of the worker behind {@code e}. */
    Ops ops(Entry e) {
        return client.worker(e.address()).dial(Ops.SERVICE, Ops.class);
    }

    /**
     * Runs {@code call} on the ops of {@code e} within {@code timeout}. A worker that does not answer in
     * time fails it with a {@link io.jcircuit.DeadlineExceededException} that says how long it was waited
     * for (the verbs report its message), as the runtime's says only what it was doing.
     */
    <R> R call(Entry e, Duration timeout, Function<Ops, R> call) {
        try {
            return Deadline.within(timeout, () -> call.apply(ops(e)));
        } catch (io.jcircuit.DeadlineExceededException late) {
            io.jcircuit.DeadlineExceededException said = new io.jcircuit.DeadlineExceededException(late.worker(),
                "no answer in " + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms")
                    + ": " + late.getMessage(), !late.outcomeUnknown());
            said.initCause(late);
            throw said;
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } finally {
            ns.close();
        }
    }

    /**
     * A failure in a few words: its message, or its type when it has none; {@link Columns#printable}, as
     * the message may be a worker's.
     */
    static String why(Throwable t) {
        return Columns.printable(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
    }

    /** A short worker id for tables: the first 9 characters. */
    static String shortId(String worker) {
        return worker.length() > 9 ? worker.substring(0, 9) : worker;
    }

    /**
     * Refuses, before any worker is asked to do the work, an output file that could not be written:
     * its directory is missing, is not a directory, or takes no new file (a scratch file is made there and
     * removed: a permission bit says nothing of {@code /proc}, a read-only mount or a full quota), or the
     * file is there and cannot be replaced.
     *
     * @throws IllegalArgumentException naming the file and why
     */
    static void checkWritable(Path file) {
        Path dir = file.toAbsolutePath().normalize().getParent();
        if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot write " + file + ": no directory " + dir);
        }
        try {
            java.nio.file.Files.delete(java.nio.file.Files.createTempFile(dir, ".circuit-", ".tmp"));
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot write " + file + ": directory " + dir + " takes no new file ("
                + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
        if (java.nio.file.Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                && (!java.nio.file.Files.isRegularFile(file) || !java.nio.file.Files.isWritable(file))) {
            throw new IllegalArgumentException("cannot write " + file + ": it exists and is not a file this user may replace");
        }
    }
}
