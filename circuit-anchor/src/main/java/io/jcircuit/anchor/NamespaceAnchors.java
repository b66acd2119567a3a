package io.jcircuit.anchor;

import io.jcircuit.Anchor;
import io.jcircuit.Anchors;
import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.Membership;
import io.jcircuit.Subscription;
import io.jcircuit.Worker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@link Anchors} of one runtime on a {@link Namespace}. On creation it files the runtime under
 * {@code /worker}; {@link #close()} removes every entry it filed.
 */
public final class NamespaceAnchors implements Anchors, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NamespaceAnchors.class);
    private static final String WORKERS = "/worker";
    /** The largest encoded entry: ZooKeeper drops a whole connection over an oversized packet. */
    static final int MAX_ENTRY_BYTES = 64 * 1024;

    private final Namespace ns;
    private final Entry self;
    private final Function<Entry, Worker> resolver;
    private final Map<String, FiledAnchor> filed = new ConcurrentHashMap<>();
    private final EntryNode workerEntry;
    /** What every entry of this runtime carries besides its own metadata; see {@link #setBaseMetadata}. */
    private volatile Map<String, String> base = Map.of();
    private volatile boolean closed;

    /**
     * @param self     this runtime's entry under {@code /worker} (its path names the entry); filed
     *                 entries copy it with their own path and metadata
     * @param resolver turns an entry into a handle on its runtime
     */
    public NamespaceAnchors(Namespace ns, Entry self, Function<Entry, Worker> resolver) {
        this(ns, self, resolver, Map.of());
    }

    /**
     * As above, with {@code base} as the first {@linkplain #setBaseMetadata base metadata}: the {@code /worker}
     * entry carries it from its first filing.
     */
    public NamespaceAnchors(Namespace ns, Entry self, Function<Entry, Worker> resolver, Map<String, String> base) {
        this.ns = Objects.requireNonNull(ns, "ns");
        this.self = Objects.requireNonNull(self, "self");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.base = Map.copyOf(base);
        byte[] data = EntryCodec.encode(withPath(WORKERS, Map.of()));
        if (data.length > MAX_ENTRY_BYTES) {
            throw new IllegalArgumentException("the /worker entry would take " + data.length
                + " bytes; the runtime's entry metadata must keep it under " + MAX_ENTRY_BYTES);
        }
        this.workerEntry = ns.file(WORKERS, self.worker().toString(), data);
    }

    @Override
    public Anchor file(String dir, Map<String, String> metadata) {
        Paths.anchorDir(dir, true);
        Objects.requireNonNull(metadata, "metadata");
        metadata.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException("metadata for " + dir + " has a null key or value: " + k + "=" + v);
            }
        });
        checkOpen();
        byte[] data = EntryCodec.encode(withPath(dir, metadata));
        if (data.length > MAX_ENTRY_BYTES) {
            throw new IllegalArgumentException("the entry for " + dir + " would take " + data.length
                + " bytes; metadata must keep it under " + MAX_ENTRY_BYTES);
        }
        // ZooKeeper is called without a lock held: a filing that waits for an unanswering server must not
        // hold up other filings, closes and drains (it did, one after another, 4 s each)
        FiledAnchor existing = filed.get(dir);
        if (existing != null) {
            existing.node.setData(data);
            return existing;
        }
        return keep(dir, ns.file(dir, self.worker().toString(), data), data);
    }

    /**
     * Keeps {@code node}, just filed under {@code dir}, unless another filing of the same directory got
     * there first: both filed the same znode in the same session, so this node stops keeping it (without
     * removing it) and the other takes this filing's data.
     */
    private FiledAnchor keep(String dir, EntryNode node, byte[] data) {
        FiledAnchor a = new FiledAnchor(dir, node);
        FiledAnchor first = filed.putIfAbsent(dir, a);
        if (first == null) {
            return a;
        }
        node.stopKeeping();
        first.node.setData(data);
        return first;
    }

    /**
     * Files this runtime under the reserved directory {@code /host/<hostName>}, as a worker that the
     * host started. Only the runtime's own spawning code calls this.
     */
    public Anchor fileUnderHost(String hostName, Map<String, String> metadata) {
        String dir = Paths.anchorDir("/host/" + hostName, false);
        checkOpen();
        byte[] data = EntryCodec.encode(withPath(dir, metadata));
        return keep(dir, ns.file(dir, self.worker().toString(), data), data);
    }

    /**
     * Withdraws the entries this runtime filed under anchors of its own choosing, so that nobody new
     * finds it there; its {@code /worker} entry and the one under its host stay (a drain). Returns the
     * directories it left.
     */
    public java.util.List<String> withdraw() {
        java.util.List<String> left = new java.util.ArrayList<>();
        java.util.List<EntryNode> nodes = new java.util.ArrayList<>();
        for (FiledAnchor a : filed.values()) {
            if (!a.dir.startsWith("/host/") && filed.remove(a.dir, a)) {
                nodes.add(a.node);
                left.add(a.dir);
            }
        }
        closeAll(nodes);
        java.util.Collections.sort(left);
        return left;
    }

    /**
     * Adds {@code metadata} to every entry this runtime files from now on, its {@code /worker} entry
     * included (refiled at once), such as the code version a spawned worker runs. An entry's own
     * metadata wins over it key by key. Entries filed before keep what they have. Only the runtime's
     * own spawning code calls this, before any user code runs.
     */
    public void setBaseMetadata(Map<String, String> metadata) {
        checkOpen();
        base = Map.copyOf(metadata);
        workerEntry.setData(EntryCodec.encode(withPath(WORKERS, Map.of())));
    }

    /**
     * As {@link #setBaseMetadata}, but only the write of the {@code /worker} entry runs on {@code writer}:
     * the new base counts at once for entries filed from now on, whichever write ZooKeeper takes first.
     */
    public java.util.concurrent.CompletableFuture<Void> setBaseMetadataAsync(Map<String, String> metadata,
            java.util.concurrent.Executor writer) {
        checkOpen();
        base = Map.copyOf(metadata);
        byte[] data = EntryCodec.encode(withPath(WORKERS, Map.of()));
        return java.util.concurrent.CompletableFuture.runAsync(() -> workerEntry.setData(data), writer);
    }

    /**
     * Runs the ZooKeeper calls of filing {@code rounds} times in all, on {@code parallel} threads at once
     * (one session pipelines them); see {@link Namespace#warmUp}. Then files one scratch entry, outside
     * the anchor tree, through this class's own bookkeeping of a filing, and removes it, so that a spawned
     * worker's first filing finds those classes loaded too (read from their jar in the spawn, not from the
     * class archive, they took a warm spawn 1–2 ms). Best effort: a thread whose round fails
     * (ZooKeeper away) ends its share there, and this returns when all have ended.
     */
    public void warmUp(int rounds, int parallel) {
        checkOpen();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < parallel; i++) {
                String name = self.worker() + "-" + i;
                threads.submit(() -> ns.warmUp(name, rounds / parallel));
            }
        }
        try {
            byte[] data = EntryCodec.encode(withPath(Namespace.WARMUP, Map.of()));
            keep(Namespace.WARMUP, ns.fileWarmUp(self.worker().toString(), data), data).close();
        } catch (RuntimeException away) {
            LOG.debug("warm-up: the scratch filing failed: {}", away.toString());
        }
    }

    /** Removes every entry of {@code worker}, as a host does when one of its workers dies. Returns how many. */
    public int removeEntriesOf(io.jcircuit.WorkerId worker) {
        return ns.removeEntriesOf(worker);
    }

    /** Replaces the metadata of a host entry made by {@link #fileAsHost}. */
    public void updateHost(EntryNode node, String name, Map<String, String> metadata) {
        Map<String, String> m = new java.util.TreeMap<>(metadata);
        m.put(Namespace.ROLE_KEY, Namespace.ROLE_HOST);
        node.setData(EntryCodec.encode(withPath("/host/" + name, m)));
    }

    /** Files this runtime as the host daemon {@code name}, in {@code /host/<name>}, with {@code metadata}. */
    public EntryNode fileAsHost(String name, Map<String, String> metadata) {
        return fileAsHost(name, metadata, holder -> { });
    }

    /**
     * Files this runtime as the host daemon {@code name}, in {@code /host/<name>}, with {@code metadata};
     * {@code onLost} learns which host holds the name when this one's entry, gone meanwhile, cannot be
     * filed again (see {@link Namespace#fileHost(String, Entry, Consumer)}).
     */
    public EntryNode fileAsHost(String name, Map<String, String> metadata, Consumer<String> onLost) {
        checkOpen();
        EntryNode node = ns.fileHost(name, withPath("/host/" + name, metadata), onLost);
        hostDir = "/host/" + name;
        return node;
    }

    /** The directory this runtime is filed in as a host daemon, if it is one; its node is the daemon's to keep. */
    private volatile String hostDir;

    @Override
    public Set<String> filed() {
        Set<String> all = new TreeSet<>(filed.keySet());
        String host = hostDir;
        if (host != null) {
            all.add(host);
        }
        return all;
    }

    @Override
    public Listing<Entry> list(String dir) {
        return ns.listAnchors(Paths.anchorDir(dir, false), false);
    }

    @Override
    public Listing<Entry> listAll(String dir) {
        return ns.listAnchors(Paths.anchorDir(dir, false), true);
    }

    @Override
    public Listing<Entry> awaitChange(String dir, long sinceRevision, Duration timeout) throws InterruptedException {
        Paths.anchorDir(dir, false);
        return ns.awaitChange(dir, sinceRevision, timeout, true);
    }

    @Override
    public Subscription watch(String dir, Consumer<Listing<Entry>> listener) {
        Paths.anchorDir(dir, false);
        Objects.requireNonNull(listener, "listener");
        return ListingSubscription.<Entry>start(ns, dir, true, "anchors-watch" + dir, listener);
    }

    @Override
    public Subscription subscribe(String dir, Membership listener) {
        Paths.anchorDir(dir, false);
        Objects.requireNonNull(listener, "listener");
        // The entries there now, read before returning: the subscription's own first listing comes a
        // moment later, and an entry that left in between would otherwise be reported neither way.
        Listing<Entry> now;
        try {
            now = ns.listAnchors(dir, false);
        } catch (NamespaceException away) {
            now = null; // ZooKeeper is away: the subscription's own listing, once it can, replays them
        }
        return members(dir, listener, now);
    }

    /**
     * {@link #subscribe} without the listing before returning: the first joins come from the
     * subscription's own listing, so an entry that leaves at once may go unreported. For a runtime's
     * own watch of {@code /worker} at its start, where that read would lengthen every spawn.
     */
    public Subscription subscribeFromItsFirstListing(String dir, Membership listener) {
        Paths.anchorDir(dir, false);
        Objects.requireNonNull(listener, "listener");
        return members(dir, listener, null);
    }

    private Subscription members(String dir, Membership listener, Listing<Entry> seed) {
        Map<String, Entry> members = new HashMap<>(); // touched only on the subscription's own thread
        java.util.concurrent.atomic.AtomicReference<Listing<Entry>> first = new java.util.concurrent.atomic.AtomicReference<>(seed);
        return ListingSubscription.<Entry>start(ns, dir, true, "anchors-members" + dir, l -> {
            Listing<Entry> before = first.getAndSet(null);
            if (before != null) {
                report(members, before, listener);
            }
            report(members, l, listener);
        });
    }

    /** Reports the difference between {@code members} and {@code l} to {@code listener}, and takes {@code l} in. */
    private static void report(Map<String, Entry> members, Listing<Entry> l, Membership listener) {
        Map<String, Entry> now = new HashMap<>();
        for (Entry e : l.entries()) {
            now.put(e.path(), e);
        }
        for (var gone : Set.copyOf(members.keySet())) {
            if (!now.containsKey(gone)) {
                listener.left(members.remove(gone));
            }
        }
        for (Entry e : l.entries()) {
            if (members.putIfAbsent(e.path(), e) == null) {
                listener.joined(e);
            }
        }
    }

    /**
     * Runs {@code action} once {@code worker} is no longer filed under {@code /worker}: at once when
     * it is not there now, else when it leaves. Close the subscription to give up waiting.
     *
     * <p>It watches that one entry, not the directory: every worker watches its spawner, and a watch
     * on all of {@code /worker} would make each worker that comes or goes cost every other one a full
     * listing. A lookup that fails while ZooKeeper is away is made again when the connection is back.
     */
    public Subscription whenGone(io.jcircuit.WorkerId worker, Runnable action) {
        String entry = Paths.child(WORKERS, worker.toString());
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        Coalescer[] check = new Coalescer[1];
        DirWatch[] watch = new DirWatch[1];
        Subscription sub = () -> {
            check[0].close();
            DirWatch w;
            synchronized (watch) {
                w = watch[0];
                watch[0] = null;
            }
            if (w != null) {
                w.close();
            }
        };
        check[0] = new Coalescer("anchors-gone-" + worker, () -> {
            boolean filed;
            try {
                filed = ns.hasEntry(entry);
            } catch (NamespaceException away) {
                LOG.debug("cannot look up {} yet; looking again on reconnect: {}", entry, away.getMessage());
                return;
            }
            if (!filed && ran.compareAndSet(false, true)) {
                action.run();
                sub.close(); // a one-shot: stop watching once it fired
            }
        });
        DirWatch w;
        try {
            w = ns.watchAnchors(entry, check[0]::signal);
        } catch (RuntimeException e) {
            check[0].close();
            throw e;
        }
        synchronized (watch) {
            if (ran.get()) {
                w.close();
            } else {
                watch[0] = w;
            }
        }
        check[0].signal(); // the entry may be gone already
        return sub;
    }

    /**
     * Calls {@code onChange} after each change of {@code worker}'s entry in the anchor directory {@code dir}
     * (filed, its metadata changed, removed), and each time the connection to ZooKeeper is back, when
     * what changed meanwhile cannot be told: the caller looks for itself. It watches that one entry, which
     * need not exist yet, so the other entries of {@code dir} cost it nothing. {@code onChange} runs on
     * ZooKeeper's event thread: it must be quick and never block. Close the subscription to stop.
     *
     * @throws NamespaceException when the watch cannot be set (ZooKeeper away)
     */
    public Subscription watchEntry(String dir, io.jcircuit.WorkerId worker, Runnable onChange) {
        String entry = Paths.child(Paths.anchorDir(dir, false), worker.toString());
        Objects.requireNonNull(onChange, "onChange");
        DirWatch w = ns.watchAnchors(entry, onChange);
        return w::close;
    }

    @Override
    public Worker worker(Entry entry) {
        return resolver.apply(Objects.requireNonNull(entry, "entry"));
    }

    /** Removes every entry this runtime filed, {@code /worker} last. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Without a connection, each close returns at once and removes its entry once ZooKeeper is back,
        // unless the session ends first (the runtime closing its namespace next), which removes them all.
        java.util.List<EntryNode> nodes = new java.util.ArrayList<>();
        for (FiledAnchor a : filed.values()) {
            if (filed.remove(a.dir, a)) {
                nodes.add(a.node);
            }
        }
        closeAll(nodes);
        workerEntry.close();
    }

    /**
     * Removes {@code nodes} all at once, and waits for them together no longer than one {@link EntryNode#close}
     * does: while ZooKeeper is away, or does not answer, they return then and the entries go once it is back.
     */
    private static void closeAll(java.util.List<EntryNode> nodes) {
        if (nodes.isEmpty()) {
            return;
        }
        java.util.concurrent.CompletableFuture<?>[] removals = nodes.stream().map(EntryNode::closeAsync)
            .toArray(java.util.concurrent.CompletableFuture<?>[]::new);
        EntryNode.awaitRemoval(java.util.concurrent.CompletableFuture.allOf(removals), EntryNode.CLOSE_WAIT_MS);
    }

    private Entry withPath(String dir, Map<String, String> metadata) {
        Map<String, String> b = base;
        Map<String, String> m = metadata;
        if (!b.isEmpty()) {
            m = new java.util.TreeMap<>(b);
            m.putAll(metadata);
        }
        return new Entry(Paths.child(dir, self.worker().toString()), self.worker(), self.address(), self.host(),
            self.pid(), self.started(), m);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the namespace of " + self.worker() + " is closed");
        }
    }

    private final class FiledAnchor implements Anchor {
        final String dir;
        final EntryNode node;

        FiledAnchor(String dir, EntryNode node) {
            this.dir = dir;
            this.node = node;
        }

        @Override
        public String dir() {
            return dir;
        }

        @Override
        public String path() {
            return Paths.child(dir, self.worker().toString());
        }

        @Override
        public void close() {
            if (filed.remove(dir, this)) {
                node.close(); // while ZooKeeper is away or does not answer, it returns and removes the entry once it is back
            }
        }

        @Override
        public String toString() {
            return "Anchor(" + path() + ")";
        }
    }

    /** A watch that relists on each change and hands new revisions to a listener, one at a time. */
    static final class ListingSubscription<E> implements Subscription {
        private final Coalescer runner;
        private final DirWatch watch;

        private ListingSubscription(Coalescer runner, DirWatch watch) {
            this.runner = runner;
            this.watch = watch;
        }

        static <E> ListingSubscription<E> start(Namespace ns, String dir, boolean anchors, String name,
                                                Consumer<Listing<E>> listener) {
            long[] last = {-1};
            Coalescer[] self = new Coalescer[1];
            @SuppressWarnings("unchecked")
            Coalescer runner = new Coalescer(name, () -> {
                Listing<E> l;
                try {
                    l = (Listing<E>) (anchors ? ns.listAnchors(dir, false) : ns.listDurable(dir, false));
                } catch (NamespaceException e) {
                    LOG.debug("cannot list {} for a watcher yet, trying again in 1 s: {}", dir, e.getMessage());
                    retryLater(self[0]);
                    return;
                }
                if (l.revision() != last[0]) {
                    last[0] = l.revision();
                    listener.accept(l);
                }
            });
            self[0] = runner;
            DirWatch w;
            try {
                w = anchors ? ns.watchAnchors(dir, runner::signal) : ns.watchDurable(dir, runner::signal);
            } catch (RuntimeException e) {
                runner.close();
                throw e;
            }
            runner.signal();
            return new ListingSubscription<>(runner, w);
        }

        /** Signals {@code runner} again after a pause, unless it closed meanwhile. */
        private static void retryLater(Coalescer runner) {
            Thread.ofVirtual().name("namespace-retry").start(() -> {
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException e) {
                    return;
                }
                if (!runner.isClosed()) {
                    runner.signal();
                }
            });
        }

        @Override
        public void close() {
            runner.close();
            watch.close();
        }
    }
}
