package io.jcircuit.anchor;

import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.Stored;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One connection to ZooKeeper, through a Curator client, and the namespace operations on it: filing
 * entries, listing with revisions, watching, and the durable store's reads and writes. The runtime
 * builds {@link io.jcircuit.Anchors} and {@link io.jcircuit.Durable} on it; the CLI uses it alone to
 * list. Thread-safe.
 *
 * <p>While the connection is suspended, operations retry for a bounded time and then fail with a
 * {@link NamespaceException}; filed entries are re-created by their {@link EntryNode} when the
 * connection or a new session comes back.
 */
public final class Namespace implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Namespace.class);
    static final String ANCHORS = "/anchors";
    static final String DURABLE = "/durable";

    private final NamespaceConfig config;
    private final CuratorFramework client;
    private volatile CuratorFramework raw;
    private volatile boolean closed;
    /** Set by {@link #beginClose}: the owner is closing this connection. */
    private volatile boolean closing;
    /** What callers blocked on this connection wait for ({@link #awaitChange}); {@link #close} releases them. */
    private final Set<Semaphore> waiting = ConcurrentHashMap.newKeySet();

    private Namespace(NamespaceConfig config, CuratorFramework client) {
        this.config = config;
        this.client = client;
    }

    /**
     * Connects to the ensemble of {@code config} and waits for the first session.
     *
     * @throws NamespaceException when no server answers within {@link NamespaceConfig#connectTimeoutMs}
     */
    public static Namespace connect(NamespaceConfig config) {
        CuratorFramework client = CuratorFrameworkFactory.builder()
            .connectString(config.connectString())
            .namespace(config.root())
            .sessionTimeoutMs(config.sessionTimeoutMs())
            .connectionTimeoutMs(config.connectTimeoutMs())
            .retryPolicy(new BoundedExponentialBackoffRetry(100, 1_000, config.retries()))
            .zkClientConfig(clientConfig(config))
            .build();
        Namespace ns = new Namespace(config, client);
        client.getConnectionStateListenable().addListener((c, state) -> ns.onState(state));
        client.start();
        ns.raw = client.usingNamespace(null);
        boolean up;
        try {
            up = client.blockUntilConnected(config.connectTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            up = false;
        }
        if (!up) {
            client.close();
            throw new NamespaceException("no ZooKeeper answered at " + config.connectString() + " within "
                + config.connectTimeoutMs() + " ms; is it running?");
        }
        return ns;
    }

    /** ZooKeeper's client configuration, with a buffer for answers as large as {@code config} lists. */
    private static org.apache.zookeeper.client.ZKClientConfig clientConfig(NamespaceConfig config) {
        org.apache.zookeeper.client.ZKClientConfig zk = PlainClientConfig.forClient();
        int set = zk.getInt(JUTE_MAXBUFFER, 0xfffff); // ZooKeeper's client default
        if (set < config.listingBufferBytes()) {
            zk.setProperty(JUTE_MAXBUFFER, Integer.toString(config.listingBufferBytes()));
        }
        return zk;
    }

    /** The largest answer a ZooKeeper client takes; a larger one drops its connection ("Packet len ... is out of range"). */
    static final String JUTE_MAXBUFFER = "jute.maxbuffer";

    public NamespaceConfig config() {
        return config;
    }

    /** True while the client holds a live connection. */
    public boolean isConnected() {
        return client.getZookeeperClient().isConnected();
    }

    CuratorFramework client() {
        return client;
    }

    /** The same connection without the root prefix: paths given to it are full znode paths. */
    CuratorFramework rawClient() {
        return raw;
    }

    /**
     * Calls {@code onConnected} each time the connection to ZooKeeper is made again after it was
     * suspended or lost (within the session or with a new one), on Curator's event thread: it must be
     * short and never block (wake a thread of its own). Closing the returned handle stops the calls; a
     * call under way may still finish. The connection being up is no promise that the next operation
     * succeeds: it may go again at once.
     */
    public AutoCloseable whenConnected(Runnable onConnected) {
        Objects.requireNonNull(onConnected, "onConnected");
        org.apache.curator.framework.state.ConnectionStateListener l = (c, state) -> {
            if (state.isConnected() && !closed) {
                onConnected.run();
            }
        };
        client.getConnectionStateListenable().addListener(l);
        return () -> client.getConnectionStateListenable().removeListener(l);
    }

    private void onState(ConnectionState state) {
        if (closed) {
            return;
        }
        switch (state) {
            case SUSPENDED -> LOG.warn("ZooKeeper connection to {} suspended; calls and references keep working, "
                + "namespace operations wait", config.connectString());
            case LOST -> LOG.warn("ZooKeeper session at {} lost; entries will be filed again when a new one begins",
                config.connectString());
            case RECONNECTED -> LOG.info("ZooKeeper connection to {} is back", config.connectString());
            default -> { }
        }
    }

    // ------------------------------------------------------------------ entries

    /**
     * Files an ephemeral entry {@code name} with {@code data} under the anchor directory {@code dir}
     * (already validated), and waits until it exists.
     */
    public EntryNode file(String dir, String name, byte[] data) {
        String znode = anchorZnode(Paths.child(dir, name));
        EntryNode node = new EntryNode(this, znode, data);
        node.start();
        return node;
    }

    /** Where {@link #warmUp} files its scratch entries: outside {@code /anchors}, so no listing shows them. */
    static final String WARMUP = "/warmup";

    /**
     * Files, updates and removes a scratch entry named {@code name} {@code rounds} times, outside the
     * anchor tree, so that the ZooKeeper client code a spawned worker's filing runs is compiled before a
     * spawn needs it. The entry is gone when this returns.
     */
    public void warmUp(String name, int rounds) {
        String znode = WARMUP + "/" + name;
        byte[] data = new byte[64];
        for (int i = 0; i < rounds; i++) {
            EntryNode node = fileWarmUp(name, data);
            data[0] = (byte) i;
            node.setData(data);
            node.stopKeeping(); // then remove it here: nothing below /warmup is pruned
            call("remove", znode, () -> client.delete().forPath(znode));
        }
    }

    /** Files a scratch entry named {@code name} under {@link #WARMUP}, for a warm-up; closing it removes it. */
    EntryNode fileWarmUp(String name, byte[] data) {
        EntryNode node = new EntryNode(this, WARMUP + "/" + name, data);
        node.start();
        return node;
    }

    /** The metadata key that tells a host daemon's entry ({@value #ROLE_HOST}) from its workers'. */
    public static final String ROLE_KEY = "role";
    public static final String ROLE_HOST = "host";

    /**
     * Files a host daemon's runtime in its own directory {@code /host/<name>}, marked with
     * {@code role=host}; the workers it starts file themselves beside it. The daemon keeps the node
     * for as long as it runs, and for as long as the name is its own: see
     * {@link #fileHost(String, Entry, java.util.function.Consumer)}.
     *
     * @throws IllegalArgumentException when {@code name} is not a valid path component
     * @throws IllegalStateException    when another live host already holds the name; of two hosts that
     *                                  file one name at once, exactly one gets it
     */
    public EntryNode fileHost(String name, Entry entry) {
        return fileHost(name, entry, holder -> { });
    }

    /**
     * As {@link #fileHost(String, Entry)}; when the entry must be filed anew (a new session after this
     * one expired while the host was paused or cut off, or someone deleted it), the name is looked at
     * again under its lock, and when another running host holds it by then (one started under the name
     * meanwhile), the entry is not filed beside it: the node stops keeping it, logs an error and tells
     * {@code onLost}, once, on the node's re-filing thread, which host holds the name. The owner must
     * stop acting as that host. A re-file after a reconnect within the session (the entry still there,
     * owned by this session) takes no lock.
     */
    public EntryNode fileHost(String name, Entry entry, java.util.function.Consumer<String> onLost) {
        if (name == null || name.contains("/")) {
            throw new IllegalArgumentException("bad host name '" + name + "': it must be one path component");
        }
        Objects.requireNonNull(onLost, "onLost");
        String dir = Paths.anchorDir("/host/" + name, false);
        java.util.Map<String, String> meta = new java.util.TreeMap<>(entry.metadata());
        meta.put(ROLE_KEY, ROLE_HOST);
        Entry e = new Entry(Paths.child(dir, entry.worker().toString()), entry.worker(), entry.address(), entry.host(),
            entry.pid(), entry.started(), meta);
        EntryNode node = new EntryNode(this, anchorZnode(Paths.child(dir, entry.worker().toString())),
            EntryCodec.encode(e), new HostName(name, dir, entry, onLost));
        // The look for a holder and the filing are one step under a lock per name: two hosts starting at
        // once under one name would otherwise both find it free and both be filed.
        withNameLock(name, () -> {
            runningHolder(name, dir, entry).ifPresent(h -> {
                throw new IllegalStateException("host name '" + name + "' is taken by the running host " + h.worker()
                    + " at " + h.address() + "; stop it or choose another name");
            });
            node.start();
            return null;
        });
        return node;
    }

    /** Where {@link #fileHost} locks a host name while it files it: outside {@code /anchors}, so no listing shows it. */
    static final String HOST_NAMES = "/hostnames";

    /** Runs {@code step} holding the lock on host name {@code name}, {@link #HOST_NAMES}{@code /<name>}. */
    private <T> T withNameLock(String name, Callable<T> step) {
        org.apache.curator.framework.recipes.locks.InterProcessMutex lock =
            new org.apache.curator.framework.recipes.locks.InterProcessMutex(client, HOST_NAMES + "/" + name);
        long waitMs = 3L * config.sessionTimeoutMs(); // a holder may wait up to twice that for a dead host's entry
        boolean locked = call("lock the host name", name, () -> lock.acquire(waitMs, TimeUnit.MILLISECONDS));
        if (!locked) {
            throw new IllegalStateException("host name '" + name + "' is being taken by another host that is starting"
                + " (it held the name's lock for " + waitMs + " ms); check with 'circuit hosts', or choose another name");
        }
        try {
            return step.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new NamespaceException("cannot file host '" + name + "': " + e, e);
        } finally {
            try {
                lock.release();
            } catch (Exception e) {
                // its node is ephemeral: it goes with this session at the latest
                LOG.debug("could not release the lock on host name '{}': {}", name, e.toString());
            }
        }
    }

    /**
     * The running host other than {@code self} filed under {@code dir}, the name's directory, if any; to
     * be called with the name's lock held. A holder that was killed on this machine is waited for: its
     * entry lasts until its ZooKeeper session expires.
     *
     * @throws IllegalStateException when such a dead holder's entry is still there after twice the session timeout
     */
    private Optional<Entry> runningHolder(String name, String dir, Entry self) {
        for (Entry e : listAnchors(dir, false).entries()) {
            if (ROLE_HOST.equals(e.metadata().get(ROLE_KEY)) && !e.worker().equals(self.worker())) {
                if (!crashedHere(e, self)) {
                    return Optional.of(e);
                }
                // A host killed on this machine: its entry lasts until its ZooKeeper session expires, which
                // an embedded ZooKeeper started again from its data only lets happen a session timeout
                // after it is up. Failing at once would stop it again before then, and every retry too.
                long waitMs = 2L * config.sessionTimeoutMs();
                LOG.info("host name '{}' is still held by host {} (pid {}), which no longer runs here; waiting up to"
                    + " {} ms for its ZooKeeper session to expire", name, e.worker(), e.pid(), waitMs);
                if (!awaitGone(dir, e.worker(), waitMs)) {
                    throw new IllegalStateException("host name '" + name + "' is still held by host " + e.worker()
                        + ", whose process (pid " + e.pid() + ") is gone, but whose ZooKeeper session had not expired after "
                        + waitMs + " ms; try again, or choose another name");
                }
            }
        }
        return Optional.empty();
    }

    /** The name a host entry holds, looked at again each time the entry must be filed anew. */
    private final class HostName implements EntryNode.Claim {
        private final String name;
        private final String dir;
        private final Entry self;
        private final java.util.function.Consumer<String> onLost;

        HostName(String name, String dir, Entry self, java.util.function.Consumer<String> onLost) {
            this.name = name;
            this.dir = dir;
            this.self = self;
            this.onLost = onLost;
        }

        @Override
        public String fileIfFree(Callable<Void> file) {
            return withNameLock(name, () -> {
                Optional<Entry> holder = runningHolder(name, dir, self);
                if (holder.isPresent()) {
                    Entry h = holder.get();
                    return "host " + h.worker() + " at " + h.address() + " (machine " + h.host() + ", pid " + h.pid() + ")";
                }
                file.call();
                return null;
            });
        }

        @Override
        public void lost(String holder) {
            onLost.accept(holder);
        }

        @Override
        public String toString() {
            return "host name '" + name + "'";
        }
    }

    /** Whether {@code holder} was filed from this machine ({@code self}'s) by a process that has ended. */
    private static boolean crashedHere(Entry holder, Entry self) {
        return holder.host().equals(self.host()) && holder.pid() > 0 && holder.pid() != self.pid()
            && ProcessHandle.of(holder.pid()).map(p -> !p.isAlive()).orElse(true);
    }

    /**
     * Waits up to {@code waitMs} until {@code worker} has no entry in {@code dir}; returns whether it
     * has none. It looks again on each change of the directory (a watch set before the first look).
     */
    private boolean awaitGone(String dir, io.jcircuit.WorkerId worker, long waitMs) {
        long deadline = System.nanoTime() + waitMs * 1_000_000L;
        java.util.concurrent.Semaphore changed = new java.util.concurrent.Semaphore(0);
        try (DirWatch watch = watchAnchors(dir, changed::release)) {
            while (listAnchors(dir, false).entries().stream().anyMatch(e -> e.worker().equals(worker))) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !changed.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    return false;
                }
                changed.drainPermits(); // one look covers every change so far
            }
            return true;
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Removes every entry of {@code worker} in the namespace, at once: a host does this when it sees
     * one of its workers die, rather than wait for the worker's session to expire. Returns how many.
     */
    public int removeEntriesOf(io.jcircuit.WorkerId worker) {
        int removed = 0;
        for (Entry e : listAnchors("/", true).entries()) {
            if (e.worker().equals(worker)) {
                String znode = anchorZnode(e.path());
                try {
                    client.delete().forPath(znode);
                    prune(znode, ANCHORS);
                    removed++;
                } catch (Exception gone) {
                    // its session ended meanwhile
                }
            }
        }
        return removed;
    }

    /** Whether an entry is filed at the anchor path {@code path} (a directory and a name) now. */
    public boolean hasEntry(String path) {
        String znode = anchorZnode(path);
        return call("look up", path, () -> {
            Stat st = client.checkExists().forPath(znode);
            return st != null && st.getEphemeralOwner() != 0;
        });
    }

    /** Lists the anchor directory {@code dir}, directly or at any depth. */
    public Listing<Entry> listAnchors(String dir, boolean recursive) {
        Scan s = scan(anchorZnode(dir), recursive, dir);
        List<Entry> entries = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        Set<String> withEntries = new HashSet<>();
        Zxids seen = new Zxids(s.revision);
        for (Node n : s.nodes) {
            if (n.stat.getEphemeralOwner() != 0) {
                String path = userPath(ANCHORS, n.znode);
                try {
                    entries.add(EntryCodec.decode(path, n.data));
                    markAncestors(withEntries, n.znode, s.root);
                } catch (IllegalArgumentException e) {
                    LOG.warn("skipping {}: {}", path, e.getMessage());
                }
            }
        }
        for (Node n : s.nodes) {
            if (n.stat.getEphemeralOwner() == 0 && n.stat.getNumChildren() > 0
                && (recursive ? withEntries.contains(n.znode) : holds(n, true, seen))) {
                dirs.add(userPath(ANCHORS, n.znode));
            }
        }
        if (recursive) {
            pruneEmpty(s.nodes, withEntries, n -> n.stat.getEphemeralOwner() == 0);
        }
        entries.sort((a, b) -> a.path().compareTo(b.path()));
        dirs.sort(null);
        return new Listing<>(dir, revision(seen, entries, dirs), entries, dirs);
    }

    // ------------------------------------------------------------------ durable store

    /** The kind byte of a value stored as raw bytes. */
    public static final byte KIND_BYTES = 1;
    /** The kind byte of a value stored as a serialized object. */
    public static final byte KIND_OBJECT = 2;
    /** The kind byte of a serialized object signed with the cluster key ({@link DurableSeal}). */
    public static final byte KIND_SIGNED_OBJECT = 3;
    /** The kind byte of raw bytes signed with the cluster key ({@link SignedBytes}). */
    public static final byte KIND_SIGNED_BYTES = 4;

    /** A durable node's data: the kind byte, then the payload, which must fit the store's limit. */
    private static byte[] framed(String path, byte kind, byte[] payload) {
        if (payload.length > io.jcircuit.Durable.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("durable value for '" + path + "' is " + payload.length
                + " bytes; the store keeps at most " + io.jcircuit.Durable.MAX_VALUE_BYTES + " per value");
        }
        byte[] data = new byte[payload.length + 1];
        data[0] = kind;
        System.arraycopy(payload, 0, data, 1, payload.length);
        return data;
    }

    /** Stores {@code payload} of {@code kind} at the durable {@code path} (already validated). */
    public void put(String path, byte kind, byte[] payload) {
        byte[] data = framed(path, kind, payload);
        String znode = durableZnode(path);
        call("store", path, () -> {
            for (int attempt = 0; ; attempt++) {
                Stat st = client.checkExists().forPath(znode);
                try {
                    if (st == null) {
                        client.create().creatingParentContainersIfNeeded().forPath(znode, data);
                    } else if (st.getDataLength() == 0) {
                        if (st.getNumChildren() > 0) {
                            // Most such nodes are containers, which ZooKeeper removes once empty (a value
                            // there would go with them), and a client cannot tell them from plain nodes.
                            throw new IllegalArgumentException("durable path '" + path
                                + "' is a directory; a value cannot be stored there");
                        }
                        // an empty directory left behind: replace it by a plain node
                        client.delete().withVersion(st.getVersion()).forPath(znode);
                        client.create().creatingParentContainersIfNeeded().forPath(znode, data);
                    } else {
                        client.setData().forPath(znode, data);
                    }
                    return null;
                } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException
                         | KeeperException.BadVersionException | KeeperException.NotEmptyException raced) {
                    if (attempt >= 10) {
                        throw raced;
                    }
                    // another writer, or the pruning of an empty parent, came in between: look again
                }
            }
        });
    }

    /**
     * Stores {@code payload} of {@code kind} at the durable {@code path} (already validated) only when
     * nothing is there yet, atomically: of two writers racing for one path, one wins. Returns false when
     * a value or directory was there.
     */
    public boolean create(String path, byte kind, byte[] payload) {
        byte[] data = framed(path, kind, payload);
        String znode = durableZnode(path);
        return call("store", path, () -> {
            for (int attempt = 0; ; attempt++) {
                try {
                    client.create().creatingParentContainersIfNeeded().forPath(znode, data);
                    return true;
                } catch (KeeperException.NodeExistsException taken) {
                    return false;
                } catch (KeeperException.NoNodeException pruned) {
                    if (attempt >= 10) {
                        throw pruned;
                    }
                    // an empty parent was pruned while we created it: again
                }
            }
        });
    }

    /** The stored data (kind byte first) at the durable {@code path}; empty when there is no value. */
    public Optional<byte[]> get(String path) {
        String znode = durableZnode(path);
        return call("read", path, () -> {
            try {
                byte[] d = client.getData().forPath(znode);
                return d == null || d.length == 0 ? Optional.<byte[]>empty() : Optional.of(d);
            } catch (KeeperException.NoNodeException e) {
                return Optional.<byte[]>empty();
            }
        });
    }

    /**
     * Replaces the data at the durable {@code path} (already validated) by {@code payload} of {@code kind}
     * only while it is still {@code expected} (kind byte first, as {@link #get} returns it), atomically: a
     * value put or deleted in between is left as it is. Returns false when it was not {@code expected}.
     */
    public boolean replace(String path, byte[] expected, byte kind, byte[] payload) {
        Objects.requireNonNull(expected, "expected");
        byte[] data = framed(path, kind, payload);
        String znode = durableZnode(path);
        return call("store", path, () -> {
            Stat st = new Stat();
            try {
                if (!java.util.Arrays.equals(client.getData().storingStatIn(st).forPath(znode), expected)) {
                    return false;
                }
                client.setData().withVersion(st.getVersion()).forPath(znode, data);
                return true;
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException changed) {
                return false;
            }
        });
    }

    /** Removes the value at the durable {@code path}; false when there was none. */
    public boolean delete(String path) {
        String znode = durableZnode(path);
        return call("delete", path, () -> {
            for (int attempt = 0; ; attempt++) {
                Stat st = client.checkExists().forPath(znode);
                if (st == null || st.getDataLength() == 0) {
                    return false;
                }
                try {
                    if (st.getNumChildren() > 0) {
                        // values below stay: the node becomes a plain directory, pruned when they go
                        client.setData().withVersion(st.getVersion()).forPath(znode, new byte[0]);
                    } else {
                        client.delete().withVersion(st.getVersion()).forPath(znode);
                        prune(znode, DURABLE);
                    }
                    return true;
                } catch (KeeperException.BadVersionException | KeeperException.NotEmptyException
                         | KeeperException.NoNodeException raced) {
                    if (attempt >= 10) {
                        throw raced;
                    }
                }
            }
        });
    }

    /** Lists the durable directory {@code dir}, directly or at any depth. */
    public Listing<Stored> listDurable(String dir, boolean recursive) {
        Scan s = scan(durableZnode(dir), recursive, dir);
        List<Stored> values = new ArrayList<>();
        List<String> dirs = new ArrayList<>();
        Set<String> withValues = new HashSet<>();
        Zxids seen = new Zxids(s.revision);
        for (Node n : s.nodes) {
            if (n.data != null && n.data.length > 0) {
                values.add(new Stored(userPath(DURABLE, n.znode), n.data.length - 1, n.data[0] == KIND_OBJECT || n.data[0] == KIND_SIGNED_OBJECT,
                    n.stat.getMzxid()));
                markAncestors(withValues, n.znode, s.root);
            }
        }
        for (Node n : s.nodes) {
            if (n.stat.getNumChildren() > 0 && (recursive ? withValues.contains(n.znode) : holds(n, false, seen))) {
                dirs.add(userPath(DURABLE, n.znode));
            }
        }
        if (recursive) {
            pruneEmpty(s.nodes, withValues, n -> n.data == null || n.data.length == 0);
        }
        values.sort((a, b) -> a.path().compareTo(b.path()));
        dirs.sort(null);
        return new Listing<>(dir, revision(seen, values, dirs), values, dirs);
    }

    /**
     * True when an entry (anchors) or a value (durable) lives somewhere below the directory {@code dir}.
     * Walks depth first, children in name order, and stops at the first one found, so a live directory
     * costs a read or two; a directory left empty by a crashed runtime (its containers not yet removed
     * by the server) is walked to the end, and is not listed.
     *
     * <p>Every stat the walk reads goes into {@code seen}, the listing's revision: the answer depends on
     * nodes at any depth, and a change there (the entry of a crashed runtime two levels down expiring,
     * or one filed in an empty grandchild directory) must change the revision as it changes the
     * listing. A change that turns the answer touches a node the walk read: the parent of the entry
     * found, which it read, or, when it found none, a node of the subtree, all of which it read. And as
     * the walk is the same for the same tree, a change outside it changes neither answer nor revision.
     */
    private boolean holds(Node dir, boolean anchors, Zxids seen) {
        return call("list", userPath(anchors ? ANCHORS : DURABLE, dir.znode), () -> holdsBelow(dir, anchors, seen));
    }

    private boolean holdsBelow(Node dir, boolean anchors, Zxids seen) throws Exception {
        String znode = dir.znode;
        if (dir.stat.getNumChildren() > config.maxListedChildren()) {
            // Too many to name in one answer (checkListable): not looked into, but listed. Its children are
            // entries or values, save for empty directories a crashed runtime left, and its own stat, whose
            // pzxid moves with each child added or removed, keeps the revision honest.
            seen.add(dir.stat);
            return true;
        }
        Stat st = new Stat();
        List<String> names;
        try {
            names = new ArrayList<>(client.getChildren().storingStatIn(st).forPath(znode));
        } catch (KeeperException.NoNodeException gone) {
            return false;
        }
        seen.add(st); // with the names, in one answer: their deletions since are in its pzxid
        names.sort(null); // the same walk for the same tree: its revision cannot go down without a change
        List<String> paths = new ArrayList<>(names.size());
        for (String n : names) {
            paths.add(znode + "/" + n);
        }
        List<Node> children = readAll(paths);
        for (Node c : children) {
            seen.add(c.stat);
        }
        for (Node c : children) {
            if (anchors ? c.stat.getEphemeralOwner() != 0 : c.data != null && c.data.length > 0) {
                return true;
            }
        }
        for (Node c : children) {
            if (c.stat.getNumChildren() > 0 && holdsBelow(c, anchors, seen)) {
                return true;
            }
        }
        return false;
    }

    /** The greatest transaction id among the stats a listing read: its revision. */
    private static final class Zxids {
        private long max;

        Zxids(long start) {
            max = start;
        }

        void add(Stat st) {
            max = Math.max(max, Math.max(st.getMzxid(), st.getPzxid()));
        }
    }

    /**
     * Deletes, in the background, the empty directories a recursive scan met with nothing below
     * them: containers that a crashed runtime left and the server has not removed yet.
     */
    private void pruneEmpty(List<Node> nodes, Set<String> live, java.util.function.Predicate<Node> isDir) {
        for (Node n : nodes) {
            if (isDir.test(n) && n.stat.getNumChildren() == 0 && n.stat.getDataLength() == 0 && !live.contains(n.znode)) {
                try {
                    client.delete().withVersion(n.stat.getVersion()).inBackground().forPath(n.znode);
                } catch (Exception e) {
                    return; // best effort: the container manager removes them too
                }
            }
        }
    }

    /**
     * An empty listing has revision 0, whether the directory is missing or merely empty (a parent
     * created just before its first entry, or not yet pruned): users cannot tell those apart.
     */
    private static long revision(Zxids seen, List<?> entries, List<String> dirs) {
        return entries.isEmpty() && dirs.isEmpty() ? 0 : seen.max;
    }

    // ------------------------------------------------------------------ watching

    /**
     * Blocks until the listing of {@code dir} (anchors, or durable values) has a revision other than
     * {@code since}, or {@code timeout} passes, and returns it; relists after each watch event. Shared by
     * anchors and the durable store. A timeout too long to count in nanoseconds (as
     * {@code Duration.ofSeconds(Long.MAX_VALUE)}, meaning "as long as it takes") waits about 292 years.
     *
     * <p>While ZooKeeper is away the watch and the listing wait through their retries, longer than a short
     * timeout: they run on a thread of their own, and a caller whose timeout has passed (with
     * {@link #AWAIT_GRACE_NANOS} for a listing read just at the deadline) gets a {@link NamespaceException}
     * then (a probe's 5 s wait took 15.7 s).
     *
     * @throws IllegalStateException when this connection closes first, or has closed: the runtime it
     *                               belongs to closed
     * @throws NamespaceException    when ZooKeeper could not be read by the timeout
     */
    <E> Listing<E> awaitChange(String dir, long since, Duration timeout, boolean anchors) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + saturatedNanos(timeout); // may wrap: only compared by subtraction
        java.util.concurrent.CompletableFuture<Listing<E>> answer = new java.util.concurrent.CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().name("namespace-await-change").start(() -> {
            try {
                answer.complete(awaitChangeUntil(dir, since, deadline, anchors));
            } catch (Throwable t) {
                answer.completeExceptionally(t);
            }
        });
        try {
            long left = deadline - System.nanoTime();
            // saturated: a wait "as long as it takes" has no bound to add the grace to
            long bound = left > Long.MAX_VALUE - AWAIT_GRACE_NANOS ? Long.MAX_VALUE : Math.max(0, left) + AWAIT_GRACE_NANOS;
            return answer.get(bound, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException slow) {
            waiter.interrupt(); // its watch closes as it ends
            throw new NamespaceException("ZooKeeper at " + config.connectString() + " did not answer by the timeout of "
                + timeout + ": cannot wait for a change of " + dir);
        } catch (InterruptedException e) {
            waiter.interrupt();
            throw e;
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            if (cause instanceof InterruptedException) {
                throw new InterruptedException("interrupted while waiting for a change of " + dir);
            }
            throw new NamespaceException("cannot wait for a change of " + dir + ": " + cause, cause);
        }
    }

    /** How long past its timeout {@link #awaitChange} waits for a listing read at the deadline. */
    static final long AWAIT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private <E> Listing<E> awaitChangeUntil(String dir, long since, long deadline, boolean anchors) throws InterruptedException {
        Semaphore changed = new Semaphore(0);
        waiting.add(changed); // before the first look at closed: a close from then on wakes this caller
        try (DirWatch w = anchors ? watchAnchors(dir, changed::release) : watchDurable(dir, changed::release)) {
            while (true) {
                checkNotClosedWhileWaiting(dir, null);
                @SuppressWarnings("unchecked")
                Listing<E> l = (Listing<E>) (anchors ? listAnchors(dir, false) : listDurable(dir, false));
                long left = deadline - System.nanoTime();
                if (l.revision() != since || left <= 0) {
                    return l;
                }
                if (changed.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                    changed.drainPermits();
                }
            }
        } catch (NamespaceException e) {
            checkNotClosedWhileWaiting(dir, e); // the connection closed under the watch or the listing
            throw e;
        } finally {
            waiting.remove(changed);
        }
    }

    /** {@code d} in nanoseconds, 0 when negative, {@link Long#MAX_VALUE} when longer than that. */
    static long saturatedNanos(Duration d) {
        if (d.isNegative()) {
            return 0;
        }
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    private void checkNotClosedWhileWaiting(String dir, Throwable cause) {
        if (closed) {
            throw new IllegalStateException("namespace connection to " + config.connectString()
                + " is closed (its runtime closed): no longer waiting for a change of " + dir, cause);
        }
    }

    /** Calls {@code onChange} after every change at or below the anchor directory {@code dir}. */
    public DirWatch watchAnchors(String dir, Runnable onChange) {
        return DirWatch.start(this, anchorZnode(dir), onChange);
    }

    /** Calls {@code onChange} after every change at or below the durable directory {@code dir}. */
    public DirWatch watchDurable(String dir, Runnable onChange) {
        return DirWatch.start(this, durableZnode(dir), onChange);
    }

    // ------------------------------------------------------------------ plumbing

    static String anchorZnode(String userPath) {
        return userPath.equals("/") ? ANCHORS : ANCHORS + userPath;
    }

    static String durableZnode(String userPath) {
        return userPath.equals("/") ? DURABLE : DURABLE + userPath;
    }

    /** The path a user gave for {@code znode} (an anchor's or a durable value's), for messages; else the znode. */
    static String shownPath(String znode) {
        if (znode.equals(ANCHORS) || znode.startsWith(ANCHORS + "/")) {
            return userPath(ANCHORS, znode);
        }
        if (znode.equals(DURABLE) || znode.startsWith(DURABLE + "/")) {
            return userPath(DURABLE, znode);
        }
        return znode;
    }

    private static String userPath(String base, String znode) {
        String p = znode.substring(base.length());
        return p.isEmpty() ? "/" : p;
    }

    private static void markAncestors(Set<String> marked, String znode, String root) {
        for (int slash = znode.lastIndexOf('/'); slash > 0; slash = znode.lastIndexOf('/', slash - 1)) {
            String parent = znode.substring(0, slash);
            if (parent.length() <= root.length() || !marked.add(parent)) {
                return;
            }
        }
    }

    /**
     * Deletes the empty, valueless parents of {@code znode} up to {@code base}, bottom up, stopping at
     * the first that is not empty. A writer that races it gets NoNode and creates the parent again.
     */
    void prune(String znode, String base) {
        for (int slash = znode.lastIndexOf('/'); slash > base.length(); slash = znode.lastIndexOf('/', slash - 1)) {
            String parent = znode.substring(0, slash);
            try {
                Stat st = client.checkExists().forPath(parent);
                if (st == null || st.getNumChildren() > 0 || st.getDataLength() > 0) {
                    return;
                }
                client.delete().withVersion(st.getVersion()).forPath(parent);
            } catch (Exception e) {
                return; // someone filed below it meanwhile, or ZooKeeper is away: the container manager finishes
            }
        }
    }

    private record Node(String znode, byte[] data, Stat stat) {
    }

    private record Scan(String root, long revision, List<Node> nodes) {
    }

    /**
     * Reads the children of {@code root} (and, when {@code recursive}, all descendants) with their
     * data and stats, level by level, each level's reads pipelined. The revision is the greatest
     * transaction id seen in any read node's data or children, so it only grows while the root
     * exists; a missing root has revision 0 (a listing adds what else it reads, see {@link #holds}).
     * A failure names {@code shown}, the user's path.
     */
    private Scan scan(String root, boolean recursive, String shown) {
        return call("list", shown, () -> {
            Stat rootStat = client.checkExists().forPath(root);
            if (rootStat == null) {
                return new Scan(root, 0, List.of());
            }
            checkListable(root, rootStat);
            List<String> names;
            try {
                names = client.getChildren().storingStatIn(rootStat).forPath(root);
            } catch (KeeperException.NoNodeException e) {
                return new Scan(root, 0, List.of());
            }
            Zxids revision = new Zxids(rootStat.getPzxid());
            List<Node> all = new ArrayList<>();
            List<String> level = new ArrayList<>(names.size());
            for (String n : names) {
                level.add(root + "/" + n);
            }
            while (!level.isEmpty()) {
                List<Node> read = readAll(level);
                List<String> next = new ArrayList<>();
                List<String> parents = new ArrayList<>();
                for (Node n : read) {
                    revision.add(n.stat);
                    all.add(n);
                    if (recursive && n.stat.getNumChildren() > 0) {
                        checkListable(n.znode, n.stat);
                        parents.add(n.znode);
                    }
                }
                if (!parents.isEmpty()) {
                    for (var e : childrenOfAll(parents, revision)) {
                        next.add(e);
                    }
                }
                level = next;
            }
            return new Scan(root, revision.max, all);
        });
    }

    /**
     * Refuses to ask for the children of {@code znode} when they are more than one answer may name
     * ({@link NamespaceConfig#maxListedChildren}): the answer would drop the client's connection (and
     * Curator's retries, and a watcher's, drop it again), and fail as if ZooKeeper were unreachable.
     */
    private void checkListable(String znode, Stat st) {
        int max = config.maxListedChildren();
        if (st.getNumChildren() > max) {
            boolean durable = znode.startsWith(DURABLE + "/") || znode.equals(DURABLE);
            throw new NamespaceException((durable ? "durable directory " : "anchor directory ")
                + userPath(durable ? DURABLE : ANCHORS, znode) + " holds " + st.getNumChildren()
                + (durable ? " values" : " entries") + " and subdirectories, more than one ZooKeeper answer to this client may name ("
                + max + ", NamespaceConfig.maxListedChildren; " + config.listingBufferBytes()
                + " bytes, jute.maxbuffer): it cannot be listed; spread what it holds over subdirectories");
        }
    }

    /** Reads the data and stat of every path, pipelined; paths deleted meanwhile are left out. */
    private List<Node> readAll(List<String> paths) throws Exception {
        Node[] out = new Node[paths.size()];
        CountDownLatch done = new CountDownLatch(paths.size());
        AtomicReference<KeeperException> failure = new AtomicReference<>();
        for (int i = 0; i < paths.size(); i++) {
            final int at = i;
            client.getData().inBackground((c, e) -> {
                collect(e, failure, () -> out[at] = new Node(e.getPath(), e.getData(), e.getStat()));
                done.countDown();
            }).forPath(paths.get(i));
        }
        await(done, failure);
        List<Node> nodes = new ArrayList<>(out.length);
        for (Node n : out) {
            if (n != null) {
                nodes.add(n);
            }
        }
        return nodes;
    }

    /** The full paths of the children of every parent, pipelined; adds the parents' stats read with them to {@code seen}. */
    private List<String> childrenOfAll(List<String> parents, Zxids seen) throws Exception {
        List<List<String>> out = new ArrayList<>(parents.size());
        for (int i = 0; i < parents.size(); i++) {
            out.add(List.of());
        }
        CountDownLatch done = new CountDownLatch(parents.size());
        AtomicReference<KeeperException> failure = new AtomicReference<>();
        for (int i = 0; i < parents.size(); i++) {
            final int at = i;
            final String parent = parents.get(i);
            client.getChildren().inBackground((c, e) -> {
                collect(e, failure, () -> {
                    List<String> full = new ArrayList<>(e.getChildren().size());
                    for (String n : e.getChildren()) {
                        full.add(parent + "/" + n);
                    }
                    out.set(at, full);
                    if (e.getStat() != null) {
                        synchronized (seen) {
                            seen.add(e.getStat());
                        }
                    }
                });
                done.countDown();
            }).forPath(parent);
        }
        await(done, failure);
        List<String> all = new ArrayList<>();
        for (List<String> l : out) {
            all.addAll(l);
        }
        return all;
    }

    private static void collect(CuratorEvent e, AtomicReference<KeeperException> failure, Runnable onOk) {
        KeeperException.Code code = KeeperException.Code.get(e.getResultCode());
        if (code == KeeperException.Code.OK) {
            onOk.run();
        } else if (code != KeeperException.Code.NONODE) {
            failure.compareAndSet(null, KeeperException.create(code, e.getPath()));
        }
    }

    private void await(CountDownLatch done, AtomicReference<KeeperException> failure) throws Exception {
        // Each read is bounded by the client's own retries; this bounds the whole batch as well.
        long waitMs = 4L * config.connectTimeoutMs() + 10_000;
        if (!done.await(waitMs, TimeUnit.MILLISECONDS)) {
            throw new KeeperException.OperationTimeoutException();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** Runs a ZooKeeper operation and turns its failures into {@link NamespaceException}s that say what and where. */
    <T> T call(String what, String path, Callable<T> op) {
        if (closed) {
            throw new NamespaceException("namespace connection to " + config.connectString() + " is closed: cannot "
                + what + " " + path);
        }
        try {
            return op.call();
        } catch (IllegalStateException e) {
            if (closed) {
                throw new NamespaceException("namespace connection to " + config.connectString()
                    + " closed while trying to " + what + " " + path, e);
            }
            throw e;
        } catch (RuntimeException e) {
            throw e;
        } catch (KeeperException.ConnectionLossException | KeeperException.SessionExpiredException
                 | KeeperException.OperationTimeoutException e) {
            throw new NamespaceException("ZooKeeper at " + config.connectString() + " is unreachable: cannot " + what
                + " " + path + " (" + e.code() + ")", e);
        } catch (KeeperException e) {
            throw new NamespaceException("ZooKeeper at " + config.connectString() + " refused to " + what + " " + path
                + ": " + e.code(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NamespaceException("interrupted while trying to " + what + " " + path, e);
        } catch (Exception e) {
            throw new NamespaceException("cannot " + what + " " + path + " in ZooKeeper at " + config.connectString()
                + ": " + e, e);
        }
    }

    /**
     * Closes the session: every entry this client filed disappears at once, and an {@link #awaitChange}
     * under way throws {@link IllegalStateException} at once. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        waiting.forEach(Semaphore::release); // after closed is set: each waiter wakes and finds it so
        client.close();
    }

    /** True once {@link #close} has begun. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Its owner is about to {@link #close} this connection, and closes what it watches first: a watch
     * closed from now on is left to go with the session (a {@link DirWatch} ignores its events once
     * closed), not removed one by one. Removing one at the server retried for seconds when the server
     * had just gone while the client still took itself for connected. Idempotent.
     */
    public void beginClose() {
        closing = true;
    }

    /** True once {@link #beginClose} or {@link #close} has been called. */
    boolean isClosing() {
        return closing || closed;
    }

    @Override
    public String toString() {
        return "Namespace(" + config.connectString() + "/" + config.root() + ")";
    }
}
