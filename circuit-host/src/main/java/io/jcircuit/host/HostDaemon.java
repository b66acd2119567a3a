package io.jcircuit.host;

import io.jcircuit.Address;
import io.jcircuit.Deadline;
import io.jcircuit.CircuitException;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.EntryNode;
import io.jcircuit.anchor.NamespaceAnchors;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.Deployment;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import io.jcircuit.runtime.host.SpawnSpec;
import io.jcircuit.runtime.host.SpawnedWorker;
import io.jcircuit.runtime.host.WorkerMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A host daemon: a runtime that publishes {@link HostService}, files itself under
 * {@code /host/<name>}, and starts worker JVMs. State lives under {@code <stateDir>}: the jar cache
 * in {@code jars/} and AppCDS archives in {@code cds/} (both under {@link Config#cacheDir()} when it
 * is set), one directory per worker in {@code workers/<id>/} (stdout, stderr,
 * {@value WorkerMain#META_FILE}, and {@code exit} once it ended), and the embedded ZooKeeper's data
 * when this host runs it.
 *
 * <p>Stopping the host kills its workers that are not daemonized; daemonized workers keep running and
 * stay filed under {@code /host/<name>} until they exit.
 *
 * <p>A host whose entry went while it was paused or cut off from ZooKeeper past the session timeout, and
 * whose name another host took meanwhile, stops when it is back, as if stopped, rather than run on
 * under a name it no longer holds; {@link #lostName()} then says to whom.
 */
public final class HostDaemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HostDaemon.class);
    /** How long a new worker may take to announce itself. */
    static final long START_TIMEOUT_MS = 60_000;
    /** How long a JVM let go to write a class archive may take to exit: the dump takes a second or two. */
    static final long ARCHIVE_EXIT_TIMEOUT_MS = 60_000;
    /** How long a worker JVM whose output has ended is given to exit before it is killed. */
    static final long EXIT_GRACE_MS = 5_000;

    /**
     * @param name      the host's name, unique in the circuit
     * @param stateDir  where the jar cache, worker directories and an embedded ZooKeeper's data live
     * @param zookeeper the ensemble to join, or null to run the embedded ZooKeeper
     * @param bindHost  the address the host and its workers bind (loopback by default)
     * @param port      the host runtime's port, 0 for any
     * @param warm      warm JVMs kept ready per classpath (and JVM options) after a first spawn of it;
     *                  0 turns the pool off
     * @param keyFile   the cluster key file: the host and its workers speak mutual TLS with it; null for
     *                  plain TCP, which binds loopback only unless {@code insecure}
     * @param insecure  allow a bind address beyond loopback without a cluster key
     * @param cacheDir  where fetched jars ({@code jars/}) and AppCDS archives ({@code cds/}) are kept;
     *                  null for {@code stateDir}. An archive names its jars by path, so a host that
     *                  starts afresh in a new state directory can still use the archives kept here.
     * @param workersEndWithIt every worker, daemonized or not, ends when this host's process ends: for a
     *                  circuit that lives only as long as one program ({@code circuit run --local}),
     *                  whose workers nothing could reach once it is gone
     * @param jarCacheBytes the size the jar cache is brought down to, least recently used jars first
     *                  ({@link #JAR_GRACE}, deployed jars and running workers' jars spared); {@link Long#MAX_VALUE}
     *                  keeps every jar
     */
    public record Config(String name, Path stateDir, String zookeeper, String bindHost, int port, int warm,
                         Path keyFile, boolean insecure, Path cacheDir, boolean workersEndWithIt, long jarCacheBytes) {
        public Config {
            Objects.requireNonNull(name, "name");
            // a worker runs in its own directory, so a relative path would not reach the jar cache from there
            stateDir = Objects.requireNonNull(stateDir, "stateDir").toAbsolutePath();
            keyFile = keyFile == null ? null : keyFile.toAbsolutePath();
            cacheDir = cacheDir == null ? null : cacheDir.toAbsolutePath();
            bindHost = bindHost == null ? "127.0.0.1" : bindHost;
            if (warm < 0 || warm > MAX_WARM) {
                throw new IllegalArgumentException("warm=" + warm + ": keep 0 to " + MAX_WARM + " warm JVMs per classpath");
            }
            if (jarCacheBytes < 0) {
                throw new IllegalArgumentException("a jar cache of " + jarCacheBytes + " bytes: give 0 bytes or more");
            }
        }

        /** A host with the default warm pool ({@value #DEFAULT_WARM} per classpath). */
        public Config(String name, Path stateDir, String zookeeper, String bindHost, int port) {
            this(name, stateDir, zookeeper, bindHost, port, DEFAULT_WARM);
        }

        /** A host without a cluster key. */
        public Config(String name, Path stateDir, String zookeeper, String bindHost, int port, int warm) {
            this(name, stateDir, zookeeper, bindHost, port, warm, null, false);
        }

        /** A host that keeps its caches in its state directory. */
        public Config(String name, Path stateDir, String zookeeper, String bindHost, int port, int warm,
                      Path keyFile, boolean insecure) {
            this(name, stateDir, zookeeper, bindHost, port, warm, keyFile, insecure, null, false, DEFAULT_JAR_CACHE_BYTES);
        }

        /** This configuration secured with the cluster key in {@code file} (null for none). */
        public Config withKey(Path file, boolean insecure) {
            return new Config(name, stateDir, zookeeper, bindHost, port, warm,
                file == null ? null : file.toAbsolutePath(), insecure, cacheDir, workersEndWithIt, jarCacheBytes);
        }

        /** This configuration with its jars and AppCDS archives kept in {@code dir}. */
        public Config withCacheDir(Path dir) {
            return new Config(name, stateDir, zookeeper, bindHost, port, warm, keyFile, insecure,
                dir == null ? null : dir.toAbsolutePath(), workersEndWithIt, jarCacheBytes);
        }

        /** This configuration with its jar cache brought down to {@code bytes} ({@link Long#MAX_VALUE}: no limit). */
        public Config withJarCacheBytes(long bytes) {
            return new Config(name, stateDir, zookeeper, bindHost, port, warm, keyFile, insecure, cacheDir,
                workersEndWithIt, bytes);
        }

        /** This configuration with every worker, daemonized ones too, ending when the host's process ends. */
        public Config withWorkersEndingWithIt() {
            return new Config(name, stateDir, zookeeper, bindHost, port, warm, keyFile, insecure, cacheDir, true, jarCacheBytes);
        }

        /** Where jars and archives are kept: {@link #cacheDir()}, or the state directory. */
        public Path caches() {
            return cacheDir != null ? cacheDir : stateDir;
        }
    }

    public static final int DEFAULT_WARM = 1;
    /** The jar cache's default limit: about 30 sets of JCircuit's own jars (31 MB). */
    public static final long DEFAULT_JAR_CACHE_BYTES = 1L << 30;
    /** A jar used this recently is never evicted, whatever the cache's size. */
    public static final java.time.Duration JAR_GRACE = java.time.Duration.ofHours(1);
    /** How often a host marks its running workers' jars used, and evicts. */
    static final java.time.Duration JAR_MARK_PERIOD = java.time.Duration.ofMinutes(5);
    static final int MAX_WARM = 8;
    /** Classpaths with a warm pool at once; the least recently used one gives way. */
    static final int MAX_WARM_CLASSPATHS = 4;

    /**
     * A worker this host runs; {@code gone} completes once its end is handled (entries removed).
     * {@code child} is its {@link Process} when this host started it, null when the host took it back
     * after a restart ({@link #takeBackSurvivors}), when its exit status cannot be known.
     */
    private record Running(SpawnedWorker info, ProcessHandle process, Process child, boolean daemon,
                           CompletableFuture<Void> gone) {
    }

    /**
     * A JVM told to write an archive at exit, since {@code sinceNanos}; its process once it started. It
     * leaves {@link #archiveWriters} when its exit is handled, but it counts as gone as soon as its
     * process has ended: a spawn in between (a spawner that saw the exit first, as the bench's did) was
     * started without the archive, though the archive was written.
     */
    private static final class ArchiveWriter {
        /** A writer that has lived this long may never exit (a daemon): the next JVM is told as well. */
        static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(60);

        final WorkerId id;
        final long sinceNanos;
        volatile ProcessHandle process;

        ArchiveWriter(WorkerId id, long sinceNanos) {
            this.id = id;
            this.sinceNanos = sinceNanos;
        }

        boolean overdue(long now) {
            return now - sinceNanos > PATIENCE_NANOS;
        }

        /** Its JVM has ended: the archive is written, or will not be by this one. */
        boolean ended() {
            ProcessHandle p = process;
            return p != null && !p.isAlive();
        }
    }

    private final Config config;
    private final CircuitRuntime runtime;
    private final String zookeeper;
    private final JarCache jars;
    private final Path workersDir;
    private final ConcurrentHashMap<WorkerId, Running> workers = new ConcurrentHashMap<>();
    /**
     * The workers of earlier runs of this host that ran as it started and that it has not taken back yet
     * ({@link #takeBackSurvivors}): found once, before it served a spawn, so that none of its own can be
     * among them. One leaves when it is taken back or ends, whichever comes first.
     */
    private final ConcurrentHashMap<WorkerId, Survivor> survivors = new ConcurrentHashMap<>();
    /** Looks for the survivors filed since it last looked, after each change of one's entry. */
    private final io.jcircuit.anchor.Coalescer survivorLook;
    /** Warm JVMs being started, by pool key; guarded by {@link #warmPool}. */
    private final java.util.HashMap<String, Integer> warmStartingFor = new java.util.HashMap<>();
    /** AppCDS archives not written yet, each with the JVM that will write it when it exits. */
    private final ConcurrentHashMap<Path, ArchiveWriter> archiveWriters = new ConcurrentHashMap<>();
    /** Archives this host has set out to write with a JVM of its own ({@link #archiveWriterEnded}). */
    private final java.util.Set<Path> archivesWrittenByHost = ConcurrentHashMap.newKeySet();
    /** The JVMs writing those, while they run. */
    private final java.util.Set<Jvm> archiveJvms = ConcurrentHashMap.newKeySet();
    /**
     * Warm JVMs started and not ready yet: a host that closes meanwhile ends them too, rather than
     * leaving them to finish their warm-up orphaned (seen for 7 s after {@code circuit run --local}).
     */
    private final java.util.Set<Jvm> warmStarting = ConcurrentHashMap.newKeySet();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** How often the load and free memory in the host's entry are brought up to date. */
    static final java.time.Duration METADATA_REFRESH = java.time.Duration.ofSeconds(10);
    private volatile Thread refresher;
    private EntryNode hostEntry;
    private volatile boolean closed;
    /** The host that holds this one's name, once this one found it taken; see {@link #lostName()}. */
    private volatile String lostTo;
    /**
     * Publishes the host's metadata (its worker count) after a spawn or an exit, off the spawn's path:
     * the ZooKeeper write took 2 to 12 ms of a 60 ms warm spawn here. Changes in a burst fold into one
     * write, and each write reads the count when it runs, so the last one is always current.
     */
    private final io.jcircuit.anchor.Coalescer publisher;
    /** Marks the jars in use and evicts, off the spawn's path; signalled by fetches and every {@link #JAR_MARK_PERIOD}. */
    private final io.jcircuit.anchor.Coalescer evictor;

    private HostDaemon(Config config, CircuitRuntime runtime, String zookeeper) {
        this.config = config;
        this.runtime = runtime;
        this.zookeeper = zookeeper;
        this.jars = new JarCache(config.caches().resolve("jars"), config.jarCacheBytes(), JAR_GRACE);
        this.evictor = new io.jcircuit.anchor.Coalescer("jar-evict-" + config.name(), this::evictJars);
        this.workersDir = config.stateDir().resolve("workers");
        this.publisher = new io.jcircuit.anchor.Coalescer("host-metadata-" + config.name(), this::publishMetadata);
        this.survivorLook = new io.jcircuit.anchor.Coalescer("host-survivors-" + config.name(), this::lookForSurvivors);
    }

    /** Starts the host: its runtime (and the embedded ZooKeeper when no ensemble is given), then files it. */
    public static HostDaemon start(Config config) {
        try {
            // Worker directories hold what workers print, which may be secret: other users of the machine
            // must not read them. A state directory this host makes is its owner's only; an existing one
            // keeps what its owner chose, but the host's own workers directory is always owner-only.
            Dirs.ownerOnly(config.stateDir(), false);
            Dirs.ownerOnly(config.stateDir().resolve("workers"), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the state directory " + config.stateDir() + ": " + e.getMessage(), e);
        }
        requireAUsableCache(config.caches());
        RuntimeConfig.Builder rc = RuntimeConfig.builder().bindHost(config.bindHost()).port(config.port())
            .clusterKeyFile(config.keyFile()).insecure(config.insecure());
        if (config.zookeeper() != null) {
            rc.zookeeper(config.zookeeper());
        } else {
            rc.embeddedZooKeeper(config.stateDir());
        }
        CircuitRuntime rt = CircuitRuntime.start(rc.build());
        try {
            String zk = config.zookeeper() != null ? config.zookeeper() : rt.embeddedZooKeeperConnectString().orElseThrow();
            HostDaemon h = new HostDaemon(config, rt, zk);
            rt.knowsRunning(h::runsHere); // before the sweep below: a worker of its own may not be filed now
            requireTheCircuitsKey(config.name(), rt);
            h.findSurvivors(); // before it serves: a worker running from its directory now is an earlier run's
            rt.listenOwn(HostService.SERVICE, HostService.class, h.new Service());
            h.hostEntry = ((NamespaceAnchors) rt.anchors()).fileAsHost(config.name(), h.metadata(), h::nameLost);
            h.takeBackSurvivors();
            rt.forgetForwardsToEndedWorkers(); // what workers that ended unseen (ZooKeeper away, their host gone) left
            h.refresher = Thread.ofVirtual().name("host-refresh-" + config.name()).start(h::refreshMetadata);
            h.evictor.signal(); // a cache left above its limit by an earlier run, or a lowered limit
            LOG.info("host {} serving at {} (ZooKeeper {}, state in {})", config.name(), rt.address(), zk, config.stateDir());
            return h;
        } catch (RuntimeException e) {
            rt.close();
            throw e;
        }
    }

    /**
     * Refuses, before anything starts, a cache directory where jars cannot be kept: every spawn would fail in
     * it (before, a host started and its first spawn failed with the file system's exception).
     */
    private static void requireAUsableCache(Path caches) {
        Path jars = caches.resolve("jars");
        try {
            Files.createDirectories(jars);
            Files.delete(Files.createTempFile(jars, ".probe-", ".tmp"));
        } catch (IOException | SecurityException e) {
            String why = switch (e) {
                case java.nio.file.AccessDeniedException denied -> "permission denied";
                case java.nio.file.FileAlreadyExistsException exists -> "not a directory";
                case java.nio.file.NoSuchFileException none -> "cannot be made there";
                case java.nio.file.FileSystemException fse when fse.getReason() != null -> fse.getReason();
                default -> e.toString();
            };
            throw new IllegalArgumentException("cannot keep jars in the cache directory " + caches + " (" + jars + ": " + why + ")");
        }
    }

    /**
     * Refuses to join a circuit whose other hosts run with another cluster key (or none where this one
     * has one, or the other way round): no runtime could link to both, and spawns on any host would
     * fail on the odd one out.
     */
    private static void requireTheCircuitsKey(String name, CircuitRuntime rt) {
        HostService.keyMismatch(rt.clusterKeyFingerprint(), rt.anchors().listAll("/host").entries(), name, "host")
            .ifPresent(why -> {
                throw new IllegalStateException(why);
            });
    }

    public String name() {
        return config.name();
    }

    public Address address() {
        return runtime.address();
    }

    /** The ZooKeeper connect string of the circuit this host belongs to. */
    public String zookeeper() {
        return zookeeper;
    }

    public CircuitRuntime runtime() {
        return runtime;
    }

    /** Jars fetched from spawners since start; a spawn whose jars are all cached adds none. */
    public long fetchedJars() {
        return jars.fetchedJars();
    }

    /** Class archives that a live JVM of this host has been told to write at its exit. */
    int archivesBeingWritten() {
        return (int) archiveWriters.values().stream().filter(w -> !w.ended()).count();
    }

    /**
     * The host that took this one's name while this one was out of ZooKeeper (paused, or cut off past
     * the session timeout), described; null while the name is this host's. A host that lost its name
     * has stopped, or is stopping.
     */
    public String lostName() {
        return lostTo;
    }

    /**
     * Stops this host, which found its name held by {@code holder} when it came back to ZooKeeper: it
     * must not run on under a name it no longer holds, unreachable by it ({@code circuit stop NAME}
     * reaches the holder), nor be filed beside the holder. It stops as a stop does: new spawns are refused
     * at once, its workers that are not daemonized are killed, daemonized ones run on.
     */
    private void nameLost(String holder) {
        lostTo = holder;
        LOG.error("host {} STOPS: its name is now held by {}, started while this host was away from ZooKeeper past"
            + " its session timeout (paused, or cut off); it does not run on under a name it no longer holds."
            + " Its workers that are not daemonized are killed; daemonized ones run on", config.name(), holder);
        Thread.ofVirtual().name("host-name-lost").start(this::close); // not on the namespace's re-filing thread
    }

    /** Blocks until the host is stopped (by {@link HostService#stop} or {@link #close}). */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    /** The metadata key of a host that runs the circuit's embedded ZooKeeper. */
    public static final String RUNS_ZOOKEEPER_KEY = "zookeeper";

    private Map<String, String> metadata() {
        Map<String, String> m = new TreeMap<>();
        m.put("workers", Integer.toString(workers.size()));
        m.put(HostService.KEY_KEY, HostService.keyOf(runtime.clusterKeyFingerprint()));
        String warm = warmIds();
        if (!warm.isEmpty()) {
            m.put(HostService.WARM_KEY, warm);
        }
        if (config.zookeeper() == null) {
            m.put(RUNS_ZOOKEEPER_KEY, "embedded"); // the circuit's namespace stops with this host
        }
        m.put("load", String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            m.put("freeMemoryMb", Long.toString(os.getFreeMemorySize() >> 20));
        }
        m.put(HostService.REPORTED_KEY, Long.toString(System.currentTimeMillis())); // how old the figures are
        return m;
    }

    /**
     * Publishes the metadata every {@link #METADATA_REFRESH} besides each change of the worker count, so
     * that the load and free memory {@code circuit hosts} shows are never older than that (an idle host
     * showed the figures of its last spawn for as long as it stayed idle).
     */
    private void refreshMetadata() {
        long markedAt = System.nanoTime();
        try {
            while (!closed) {
                Thread.sleep(METADATA_REFRESH); // a period, not a wait for a condition
                publisher.signal();
                if (System.nanoTime() - markedAt >= JAR_MARK_PERIOD.toNanos()) {
                    markedAt = System.nanoTime();
                    evictor.signal();
                }
            }
        } catch (InterruptedException stopping) {
            // close()
        }
    }

    /**
     * Marks the jars of this host's running workers and warm JVMs used, and evicts jars beyond the
     * cache's limit sparing those. A worker's jars are named in its spawn metadata; a JVM keeps its jars
     * open once it has read a class from them, but may open one for the first time late in its life.
     */
    private void evictJars() {
        if (closed) {
            return;
        }
        java.util.Set<String> inUse = new java.util.HashSet<>(startingWith.keySet());
        for (Running r : workers.values()) {
            inUse.addAll(WorkerDir.jarsOf(Path.of(r.info().dir())));
        }
        synchronized (warmPool) {
            warmPool.keySet().forEach(k -> inUse.addAll(jarsOfPoolKey(k)));
            warmStartingFor.keySet().forEach(k -> inUse.addAll(jarsOfPoolKey(k)));
        }
        inUse.forEach(sha -> jars.markUsed(sha, true));
        followDeployments();
        JarCache.Eviction e = jars.evict(inUse);
        if (e != null && e.jars() > 0) {
            LOG.info("host {} evicted {} jars ({} bytes) from its jar cache: {} bytes left of a limit of {}",
                config.name(), e.jars(), e.bytes(), e.sizeAfter(), config.jarCacheBytes());
        }
    }

    /**
     * Brings the cache's deployed marks in line with the deployment records: a jar whose every deployment
     * was removed ({@code circuit deploy --remove}) loses its mark, so that it is evicted as any other jar
     * once no worker uses it; a jar the cache holds that a deployment names keeps or gets one (a deploy
     * of the same jar under another name may have come between). Nothing changes when the records cannot
     * be read (ZooKeeper away), nor for a jar that no record names: only a removal lets a jar go.
     */
    private void followDeployments() {
        io.jcircuit.runtime.host.Deployments.Listed records;
        try {
            records = runtime.deployments().all();
        } catch (RuntimeException ex) {
            LOG.debug("host {} cannot read the deployments, so its jar cache keeps its marks: {}", config.name(), ex.toString());
            return;
        }
        java.util.Set<String> deployed = new java.util.HashSet<>();
        for (Deployment d : records.deployments()) {
            deployed.add(d.sha256());
            if (jars.holds(d.sha256())) {
                jars.markDeployed(d.sha256());
            }
        }
        for (Deployment d : records.removed()) {
            if (!deployed.contains(d.sha256()) && jars.unmarkDeployed(d.sha256())) {
                LOG.info("host {}: deployment {} was removed, so its jar {} may be evicted once no worker uses it",
                    config.name(), d.label(), d.fileName());
            }
        }
    }

    /** The jars a {@link #poolKey} names. */
    private static List<String> jarsOfPoolKey(String key) {
        int end = key.indexOf('|');
        return java.util.Arrays.stream(key.substring(0, end < 0 ? key.length() : end).split(";"))
            .filter(x -> !x.isEmpty()).toList();
    }

    /** Evicts now, as the host does every {@link #JAR_MARK_PERIOD} and after a fetch; for tests. */
    void evictJarsNow() {
        evictJars();
    }

    private void publishMetadata() {
        EntryNode e = hostEntry;
        if (e != null && !closed) {
            try {
                ((NamespaceAnchors) runtime.anchors()).updateHost(e, config.name(), metadata());
            } catch (RuntimeException ex) {
                LOG.debug("cannot update host metadata: {}", ex.getMessage());
            }
        }
    }

    /**
     * A JVM started for a spawn, or kept warm for one: its id, directory, process and stdout lines, and
     * whether it was told to write its classpath's class archive at exit.
     */
    private record Jvm(WorkerId id, Path dir, Process process, CompletableFuture<String> ready,
                       CompletableFuture<String> announced, boolean writesArchive) {

        /** Its runtime came up: it printed READY (a warm JVM) or announced itself (a worker). */
        boolean started() {
            return ready.isDone() && !ready.isCompletedExceptionally()
                || announced.isDone() && !announced.isCompletedExceptionally();
        }
    }

    private final java.util.concurrent.atomic.AtomicLong warmSpawns = new java.util.concurrent.atomic.AtomicLong();

    /** Spawns served by a warm JVM since start. */
    public long warmSpawns() {
        return warmSpawns.get();
    }

    /** The ids of the warm JVMs, ready or starting, sorted and space-separated: for the host's metadata. */
    private String warmIds() {
        java.util.TreeSet<String> ids = new java.util.TreeSet<>();
        synchronized (warmPool) {
            warmPool.values().forEach(q -> q.forEach(j -> ids.add(j.id().toString())));
        }
        warmStarting.forEach(j -> ids.add(j.id().toString()));
        return String.join(" ", ids);
    }

    /** Warm JVMs being started now. */
    int warmStarting() {
        synchronized (warmPool) {
            return warmStartingFor.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /** Warm JVMs ready now, over all classpaths. */
    public int warmReady() {
        synchronized (warmPool) {
            return warmPool.values().stream().mapToInt(java.util.ArrayDeque::size).sum();
        }
    }

    /**
     * Waits until at least {@code count} warm JVMs are ready, over all classpaths, or {@code timeout}
     * passes; returns whether they are.
     */
    public boolean awaitWarmReady(int count, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (warmPool) {
            while (warmReady() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(warmPool, left);
            }
            return true;
        }
    }

    /** Warm JVMs by {@link #poolKey}, most recently used classpath last. */
    private final java.util.LinkedHashMap<String, java.util.ArrayDeque<Jvm>> warmPool = new java.util.LinkedHashMap<>();

    /**
     * The jars of spawns under way, each with the number of spawns that use it: spared by eviction until
     * the worker is tracked (its spawn metadata names them then) or its spawn failed.
     */
    private final ConcurrentHashMap<String, Integer> startingWith = new ConcurrentHashMap<>();
    /** The anchors of this host's processes that run or are starting ({@link HostProc#start}). */
    private final java.util.Set<String> procAnchors = ConcurrentHashMap.newKeySet();

    private SpawnedWorker spawn(SpawnSpec spec) {
        if (closed || lostTo != null) {
            throw new IllegalStateException(stopping());
        }
        List<String> shas = spec.classpath().stream().map(JarRef::sha256).toList();
        shas.forEach(sha -> startingWith.merge(sha, 1, Integer::sum));
        try {
            return startWorker(spec);
        } finally {
            shas.forEach(sha -> startingWith.computeIfPresent(sha, (k, n) -> n > 1 ? n - 1 : null));
        }
    }

    private SpawnedWorker startWorker(SpawnSpec spec) {
        List<String> classpath = new ArrayList<>();
        long fetched = jars.fetchedJars();
        for (JarRef ref : spec.classpath()) {
            classpath.add(ensureJar(ref, spec).toString());
        }
        if (jars.fetchedJars() != fetched) {
            evictor.signal(); // the cache grew
        }
        String key = poolKey(spec);
        Jvm jvm = takeWarm(key);
        if (jvm != null) {
            warmSpawns.incrementAndGet();
            try {
                writeMeta(jvm.id(), jvm.dir(), spec);
            } catch (RuntimeException e) {
                discard(jvm); // taken from the pool and told nothing: it would wait on stdin for good
                throw e;
            }
            try {
                OutputStream in = jvm.process().getOutputStream();
                in.write((jvm.dir().resolve(WorkerMain.META_FILE) + "\n").getBytes(StandardCharsets.UTF_8));
                in.flush();
            } catch (IOException e) {
                jvm.process().destroyForcibly();
                jvm = null; // it died while waiting; start a cold one
            }
        }
        if (jvm == null) {
            WorkerId id = WorkerId.random();
            Path dir = workerDir(id);
            writeMeta(id, dir, spec);
            jvm = launch(id, dir, classpath, spec, key, List.of(dir.resolve(WorkerMain.META_FILE).toString()));
        }
        String line = awaitAnnouncement(jvm);
        String[] parts = line.split(" ");
        Process p = jvm.process();
        SpawnedWorker info = new SpawnedWorker(WorkerId.parse(parts[1]), Address.parse(parts[2]), config.name(),
            jvm.dir().toString(), p.pid());
        track(new Running(info, p.toHandle(), p, spec.daemonize(), new CompletableFuture<>()));
        publisher.signal();
        LOG.info("host {} started worker {} (pid {}) for {}", config.name(), info.id(), p.pid(), spec.spawner());
        synchronized (warmPool) {
            warmReplaced.remove(key);
        }
        refillSoon(key, classpath, spec, REFILL_AFTER_SPAWN_MS);
        if (Deadline.remainingNanos().orElse(1) <= 0) {
            // The spawner gave up at its deadline: it has no handle to this worker, so nothing could end it.
            kill(info.id());
            throw new io.jcircuit.DeadlineExceededException(runtime.id(), "worker " + info.id() + " started after the"
                + " spawner's deadline had passed; it was ended");
        }
        return info;
    }

    /**
     * The WORKER line of {@code jvm}. A JVM that exits first (a bad JVM option, a main that fails)
     * fails the spawn at once with its exit status and the end of its stderr; one that says nothing
     * for {@link #START_TIMEOUT_MS} is killed.
     */
    private String awaitAnnouncement(Jvm jvm) {
        String where = "worker " + jvm.id() + " on host " + config.name();
        Path stderr = jvm.dir().resolve("stderr");
        try {
            return jvm.announced().get(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            // its stdout ended: the JVM is exiting; its status and stderr are complete once it has
            Process p = jvm.process();
            boolean exited;
            try {
                exited = p.waitFor(EXIT_GRACE_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                exited = false;
            }
            if (!exited) {
                p.destroyForcibly();
            }
            throw new CircuitException(where + (exited ? " exited with status " + p.exitValue() : " closed its output")
                + " before it started; see " + stderr + tail(stderr) + outputTail(jvm.dir()));
        } catch (TimeoutException e) {
            jvm.process().destroyForcibly();
            throw new CircuitException(where + " did not start within " + START_TIMEOUT_MS + " ms; see " + stderr + tail(stderr)
                + outputTail(jvm.dir()));
        } catch (InterruptedException e) {
            jvm.process().destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CircuitException(where + ": the spawn was interrupted while the JVM started", e);
        }
    }

    /**
     * The cached jar of {@code ref}. A deployment's jar was pushed by {@code circuit deploy}, and the
     * spawner may not hold it; when this host lacks it, say so in those terms.
     */
    private Path ensureJar(JarRef ref, SpawnSpec spec) {
        String code = spec.metadata().get(Deployment.CODE_KEY);
        String hash = spec.metadata().get(Deployment.CODE_HASH_KEY);
        try {
            Path jar = jars.ensure(ref, spec.jars());
            if (code != null && hash != null && ref.sha256().startsWith(hash)) {
                jars.markDeployed(ref.sha256()); // also on a host that started after the deploy
            }
            return jar;
        } catch (RuntimeException e) {
            if (code != null && hash != null && ref.sha256().startsWith(hash)) {
                throw new CircuitException("host " + config.name() + " lacks the jar of deployment " + code + " ("
                    + ref.name() + ", SHA-256 " + hash + "…) and could not fetch it from the spawner: " + e.getMessage()
                    + "; run 'circuit deploy' with that jar again to push it to every host", e);
            }
            throw e;
        }
    }

    /** Spawns with the same jars and JVM options can share warm JVMs. */
    private static String poolKey(SpawnSpec spec) {
        StringBuilder b = new StringBuilder();
        spec.classpath().forEach(j -> b.append(j.sha256()).append(';'));
        b.append('|').append(spec.jvmArgs()).append('|').append(spec.maxHeapMb()).append('|').append(new TreeMap<>(spec.env()));
        return b.toString();
    }

    private Jvm takeWarm(String key) {
        synchronized (warmPool) {
            java.util.ArrayDeque<Jvm> q = warmPool.remove(key);
            if (q == null) {
                return null;
            }
            warmPool.put(key, q); // most recently used now
            for (Jvm j; (j = q.pollFirst()) != null; ) {
                if (j.process().isAlive() && j.ready().isDone() && !j.ready().isCompletedExceptionally()) {
                    return j;
                }
                discard(j);
            }
            return null;
        }
    }

    /**
     * How long after a spawn the host starts the warm JVM that takes the place of the one it used. A JVM's
     * start takes a CPU for a second or more, and started at once it shared the machine with the rest of
     * the spawn it was started for: the spawner's {@code go}, the new worker's first function and the
     * answers of both, all code that runs for the first time in their JVMs. The bench's spawn pass with this
     * host jar and the one before, alternated three times (p50 of 11 warm spawns each): 42.2, 40.6, 37.8 ms
     * at once, 34.6, 32.2, 33.1 ms after 100 ms, 30.9, 32.0, 35.2 ms after 300 ms (docs/performance.md). The
     * replacement is ready about 3-4 s after its start either way, 100 ms later than before.
     */
    static final long REFILL_AFTER_SPAWN_MS = 100;

    /**
     * Starts warm JVMs for {@code key} in the background, up to the configured number, after {@code delayMs}.
     */
    private void refillSoon(String key, List<String> classpath, SpawnSpec spec, long delayMs) {
        if (config.warm() == 0 || closed) {
            return;
        }
        Thread.ofVirtual().name("warm-" + config.name()).start(() -> {
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs); // a delay, not a wait for an event: the spawn's end is not seen here
                } catch (InterruptedException e) {
                    return;
                }
            }
            while (!closed) {
                synchronized (warmPool) {
                    java.util.ArrayDeque<Jvm> q = warmPool.computeIfAbsent(key, k -> new java.util.ArrayDeque<>());
                    // the JVMs of this classpath still starting count too: spawns a few seconds apart each
                    // started a refill, and each refill another JVM (three spawns left three warm JVMs)
                    if (q.size() + warmStartingFor.getOrDefault(key, 0) >= config.warm()) {
                        return;
                    }
                    warmStartingFor.merge(key, 1, Integer::sum);
                    while (warmPool.size() > MAX_WARM_CLASSPATHS) {
                        var eldest = warmPool.entrySet().iterator().next();
                        eldest.getValue().forEach(HostDaemon::discard);
                        warmPool.remove(eldest.getKey());
                    }
                }
                WorkerId id = WorkerId.random();
                Path dir = workerDir(id);
                Jvm j = null;
                try {
                    try {
                        j = launchWarm(id, dir, classpath, spec, key);
                        warmStarting.add(j);
                        if (closed) {
                            discard(j); // close() may have looked at warmStarting before the add
                            return;
                        }
                        j.ready().get(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                        warmStarting.remove(j);
                    } finally {
                        synchronized (warmPool) {
                            warmStartingFor.computeIfPresent(key, (k, n) -> n > 1 ? n - 1 : null);
                        }
                    }
                    synchronized (warmPool) {
                        java.util.ArrayDeque<Jvm> q = warmPool.get(key);
                        if (q == null || closed) {
                            discard(j);
                            return;
                        }
                        q.addLast(j);
                        warmPool.notifyAll(); // wakes awaitWarmReady
                    }
                    Jvm ready = j;
                    j.process().onExit().thenRun(() -> warmExited(key, ready, classpath, spec));
                    publisher.signal(); // its id joins the host's list of warm JVMs
                } catch (Exception e) {
                    if (j != null) {
                        warmStarting.remove(j);
                        discard(j);
                    }
                    if (!closed) {
                        LOG.warn("host {} could not start a warm JVM (see {}): {}", config.name(), dir.resolve("stderr"),
                            e.toString());
                    }
                    return;
                }
            }
        });
    }

    /**
     * The process of warm JVM {@code j} has ended. While it was in the pool (it ended by itself, or was
     * killed from outside: the OOM killer, an operator), it leaves the pool and the host's list of warm
     * JVMs, and another is started in its place, at most {@value #WARM_REPLACED_PER_SPAWN} times between
     * two spawns of its classpath, so that a JVM that keeps dying is not started again for ever. One taken
     * for a spawn, or discarded, left the pool before.
     */
    private void warmExited(String key, Jvm j, List<String> classpath, SpawnSpec spec) {
        boolean replace;
        synchronized (warmPool) {
            java.util.ArrayDeque<Jvm> q = warmPool.get(key);
            if (q == null || !q.remove(j)) {
                return;
            }
            replace = warmReplaced.merge(key, 1, Integer::sum) <= WARM_REPLACED_PER_SPAWN;
        }
        publisher.signal(); // its id leaves the host's list of warm JVMs
        if (closed) {
            return;
        }
        String stderr = tail(j.dir().resolve("stderr"));
        if (replace) {
            LOG.warn("host {}: warm JVM {} exited with status {} while it waited for a spawn; starting another. Its stderr{}",
                config.name(), j.id(), j.process().exitValue(), stderr);
        } else {
            LOG.warn("host {}: warm JVM {} exited with status {} while it waited for a spawn; not replaced, as {} were since"
                + " the last spawn of its classpath, which starts cold and refills the pool. Its stderr{}",
                config.name(), j.id(), j.process().exitValue(), WARM_REPLACED_PER_SPAWN, stderr);
        }
        Dirs.deleteTree(j.dir());
        if (replace) {
            refillSoon(key, classpath, spec, 0);
        }
    }

    /** Warm JVMs that exited in the pool may be replaced this many times between two spawns of their classpath. */
    static final int WARM_REPLACED_PER_SPAWN = 3;
    /** Warm JVMs replaced since the last spawn, by pool key; guarded by {@link #warmPool}. */
    private final java.util.HashMap<String, Integer> warmReplaced = new java.util.HashMap<>();

    /** Starts a warm JVM: its runtime comes up, and it waits on stdin for the spawn it is to serve. */
    private Jvm launchWarm(WorkerId id, Path dir, List<String> classpath, SpawnSpec spec, String key) throws IOException {
        Path prestart = dir.resolve("prestart.properties");
        Properties p = new Properties();
        p.setProperty("id", id.toString());
        p.setProperty("zookeeper", zookeeper);
        linkSettings(p);
        try (Writer w = Files.newBufferedWriter(prestart, StandardCharsets.UTF_8)) {
            p.store(w, "warm JVM on host " + config.name());
        }
        return launch(id, dir, classpath, spec, key, List.of(WorkerMain.STANDBY, prestart.toString()));
    }

    /**
     * The JVM told to write {@code archive} has ended. One that had started and was killed (as
     * {@code kill} does, and every worker of some hosts ends that way) wrote nothing, and the next JVM
     * told might end the same way: the host then writes the archive with a JVM of its own, once per
     * archive while it runs.
     */
    private void archiveWriterEnded(Path archive, WorkerId id, Jvm jvm, List<String> classpath, SpawnSpec spec, String key) {
        releaseArchiveWriter(archive, id);
        ArchiveWriter next = archiveWriters.get(archive); // told after this one had lived a minute
        if (closed || !jvm.started() || Files.exists(archive) || next != null && !next.ended()
            || !archivesWrittenByHost.add(archive)) {
            return;
        }
        Thread.ofVirtual().name("archive-" + config.name()).start(() -> writeArchive(archive, classpath, spec, key));
    }

    /**
     * {@code spec} without the JVM options by which a JVM writes files of its own (logs, a flight
     * recording): those files are the worker's, named by whoever spawned it, and the host's archive
     * writer, started with the worker's options, wrote its own class-load log over the worker's. The
     * class archive does not depend on them; it stays named by the worker's options ({@code key}).
     */
    private static SpawnSpec withoutOutputFiles(SpawnSpec spec) {
        List<String> kept = spec.jvmArgs().stream()
            .filter(a -> !a.startsWith("-Xlog") && !a.startsWith("-XX:StartFlightRecording")).toList();
        return kept.size() == spec.jvmArgs().size() ? spec : new SpawnSpec(spec.spawner(), spec.classpath(), spec.jars(),
            spec.anchors(), kept, spec.maxHeapMb(), spec.env(), spec.daemonize(), spec.metadata(), spec.spawnerAt(), spec.owner());
    }

    /**
     * Writes {@code archive} with a warm JVM that is let go as soon as it is ready: told on stdin that
     * no spawn comes, it exits normally, which writes the archive of the classes a worker's start and
     * first calls load. It runs beside the host's workers; nothing waits for it.
     */
    private void writeArchive(Path archive, List<String> classpath, SpawnSpec spec, String key) {
        WorkerId id = WorkerId.random();
        Path dir = workerDir(id);
        Jvm j = null;
        try {
            j = launchWarm(id, dir, classpath, withoutOutputFiles(spec), key);
            archiveJvms.add(j);
            if (closed || !j.writesArchive()) {
                return; // the host stops, or a JVM started meanwhile was told to write it
            }
            j.ready().get(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            j.process().getOutputStream().close();
            if (!j.process().waitFor(ARCHIVE_EXIT_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                LOG.warn("host {}: the JVM writing class archive {} did not exit within {} s (see {})", config.name(),
                    archive, ARCHIVE_EXIT_TIMEOUT_MS / 1000, dir.resolve("stderr"));
            } else if (j.process().exitValue() == 0) {
                LOG.info("host {} wrote class archive {}", config.name(), archive);
                Dirs.deleteTree(dir);
            }
        } catch (Exception e) {
            if (!closed) {
                LOG.warn("host {} could not write class archive {} (see {}): {}", config.name(), archive,
                    dir.resolve("stderr"), e.toString());
            }
        } finally {
            if (j != null) {
                archiveJvms.remove(j);
                if (j.process().isAlive()) {
                    discard(j);
                }
            }
        }
    }

    /** Ends a warm JVM that never became a worker, and removes its directory: there is nothing to read there. */
    private static void discard(Jvm j) {
        j.process().destroyForcibly();
        j.process().onExit().thenRun(() -> Dirs.deleteTree(j.dir()));
    }

    private Path workerDir(WorkerId id) {
        Path dir = workersDir.resolve(id.toString());
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the worker directory " + dir, e);
        }
        return dir;
    }

    /** What a worker needs to link like its host: the bind address, and the cluster key if any. */
    private void linkSettings(Properties p) {
        p.setProperty("bind", config.bindHost());
        p.setProperty("insecure", Boolean.toString(config.insecure()));
        if (config.keyFile() != null) {
            p.setProperty("key", config.keyFile().toString());
            runtime.clusterKeyFingerprint().ifPresent(f -> p.setProperty(WorkerMain.KEY_FINGERPRINT, f));
        }
    }

    private void writeMeta(WorkerId id, Path dir, SpawnSpec spec) {
        Properties meta = new Properties();
        meta.setProperty("id", id.toString());
        meta.setProperty("host", config.name());
        meta.setProperty("zookeeper", zookeeper);
        meta.setProperty("spawner", spec.spawner().toString());
        if (spec.spawnerAt() != null) {
            meta.setProperty(WorkerMain.SPAWNER_ADDRESS, spec.spawnerAt().toString());
        }
        meta.setProperty("daemonize", Boolean.toString(spec.daemonize()));
        if (spec.owner() != null && !spec.daemonize()) {
            meta.setProperty(WorkerMain.OWNER, spec.owner().toString());
        }
        if (config.workersEndWithIt()) {
            meta.setProperty(WorkerMain.END_WITH_PROCESS, Long.toString(ProcessHandle.current().pid()));
        }
        meta.setProperty("anchors", String.join("\n", spec.anchors())); // a path may hold a comma, never a line break
        linkSettings(meta);
        meta.setProperty("classpath", String.join(",", spec.classpath().stream().map(j -> j.name() + "@" + j.sha256()).toList()));
        spec.metadata().forEach((k, v) -> meta.setProperty(WorkerMain.METADATA_PREFIX + k, v));
        Path tmp = dir.resolve(WorkerMain.META_FILE + ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                meta.store(w, "spawn of " + id + " on host " + config.name());
            }
            Files.move(tmp, dir.resolve(WorkerMain.META_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the spawn metadata of " + id + " in " + dir, e);
        }
    }

    /** Ten times JDK 25's C2 thresholds (5,000, 600, 15,000 and 40,000); a spawn's own JVM options come after and win. */
    static final List<String> LATER_C2 = List.of("-XX:Tier4InvocationThreshold=50000", "-XX:Tier4MinInvocationThreshold=6000",
        "-XX:Tier4CompileThreshold=150000", "-XX:Tier4BackEdgeThreshold=400000");

    /**
     * Five times JDK 25's C1 thresholds (200, 100, 2,000 and 60,000), for JVMs started for a spawn, not for
     * warm ones (whose warm-up must compile the hand-over); a spawn's own JVM options come after and win.
     */
    static final List<String> LATER_C1 = List.of("-XX:Tier3InvocationThreshold=1000", "-XX:Tier3MinInvocationThreshold=500",
        "-XX:Tier3CompileThreshold=10000", "-XX:Tier3BackEdgeThreshold=300000");

    /** How many class archives a host keeps, the most recently used; each is about 20 MB. */
    static final int ARCHIVES_KEPT = 8;

    /**
     * Deletes the class archives in {@code dir} beyond the {@code kept} most recently used (by file time),
     * sparing {@code keep} and those being written. A JVM that maps one deleted keeps its copy; a later
     * spawn of its classpath writes it again. A host used by many builds kept one per build, for ever.
     */
    static void evictArchives(Path dir, int kept, Path keep, java.util.Set<Path> writing) {
        List<Path> archives;
        try (var files = Files.list(dir)) {
            archives = files.filter(f -> f.getFileName().toString().endsWith(".jsa") && !f.equals(keep) && !writing.contains(f))
                .sorted(java.util.Comparator.comparing(HostDaemon::modified).reversed()).toList();
        } catch (IOException e) {
            return; // no directory yet: nothing to evict
        }
        for (Path old : archives.subList(Math.min(archives.size(), Math.max(0, kept - 1)), archives.size())) {
            try {
                Files.deleteIfExists(old);
            } catch (IOException e) {
                LOG.debug("cannot delete the class archive {}: {}", old, e.toString());
            }
        }
    }

    private static java.nio.file.attribute.FileTime modified(Path f) {
        try {
            return Files.getLastModifiedTime(f);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0); // gone meanwhile: first to go
        }
    }

    private static void touch(Path f) {
        try {
            Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            LOG.debug("cannot touch the class archive {}: {}", f, e.toString());
        }
    }

    /**
     * Starts a JVM for worker {@code id} in {@code dir}. Every JVM of one {@link #poolKey} shares an
     * AppCDS archive under {@code cds/} of {@link Config#caches()}, which cuts the class loading of
     * later starts. While the archive does not exist, one JVM at a time is told to write it when it
     * exits normally (another once that one has lived a minute, since a daemon may never exit); the
     * others start without it. Each JVM told would write it: the demo's five workers, spawned at once
     * on a new host, spent seconds of CPU at their exits writing the same archive five times. A JVM
     * that is killed writes nothing; when the one told is killed, the host writes the archive with a JVM
     * of its own ({@link #archiveWriterEnded}). (Writing it while the worker runs, with {@code VM.cds
     * dynamic_dump}, was tried and dropped: it pauses the worker, and in one CI run a worker's
     * ephemeral entries vanished meanwhile, likely a ZooKeeper session outlasted by the pause.)
     */
    private Jvm launch(WorkerId id, Path dir, List<String> classpath, SpawnSpec spec, String key, List<String> mainArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.add("-Xmx" + (spec.maxHeapMb() > 0 ? spec.maxHeapMb() : 256) + "m");
        // An idle worker commits what it uses, not a default share of the machine. 8 MB rather than 16:
        // idle RSS 76.9-77.4 MB against 79.0-79.3 in the bench's spawn pass, alternated four times, with
        // no change in spawn times or the demo (docs/performance.md)
        cmd.add("-Xms8m");
        cmd.add("-XX:+UseSerialGC");
        // glibc keeps what the JIT compilers and class loading freed at start; handed back each
        // second, an idle worker had 96.4-96.6 MB resident against 102.7-118.6 (docs/performance.md)
        cmd.add("-XX:TrimNativeHeapInterval=1000");
        // no JFR events from Netty's allocators, no leak detector (NettyOptions says why)
        cmd.addAll(NettyOptions.FOR_STARTED_JVMS);
        // whether values sealed before the seal covered their kind are read: as the host reads them
        String oldSeals = System.getProperty(io.jcircuit.runtime.ClusterSeal.OLD_SEALS_PROPERTY);
        if (oldSeals != null) {
            cmd.add("-D" + io.jcircuit.runtime.ClusterSeal.OLD_SEALS_PROPERTY + "=" + oldSeals);
        }
        // C2 for code that stays hot, not for start-up code that runs a few thousand times: ten times
        // JDK 25's thresholds, so that a cold worker's start does not share two CPUs with C2 compiling
        // it. Alternated five times: cold spawn 317-352 ms against 360-417, idle RSS 85-87 MB against 86-91
        // (docs/performance.md). Code that stays hot reaches C2 as before, a little later.
        cmd.addAll(LATER_C2);
        if (!mainArgs.contains(WorkerMain.STANDBY)) {
            // C1 too for code that a cold start runs more than a few hundred times, not only for code that
            // stays hot: a cold worker spent about a third of its CPU compiling (docs/performance.md)
            cmd.addAll(LATER_C1);
        }
        // on one CPU, spin-waits without the pause instruction (CpuOptions)
        cmd.addAll(CpuOptions.forThisMachine());
        // named by classpath, JVM options and JDK: an archive written by another JDK would not map
        Path archive = config.caches().resolve("cds").resolve(Integer.toHexString((key + '|' + Runtime.version()).hashCode()) + ".jsa");
        boolean writesArchive = false;
        ArchiveWriter mine = null;
        // a JVM with a native agent (a profiler, a debugger) cannot write an archive: it would fail
        // at start with "CDS dumping does not support native JVMTI agent"
        boolean nativeAgent = spec.jvmArgs().stream().anyMatch(a -> a.startsWith("-agentpath:") || a.startsWith("-agentlib:"));
        if (!nativeAgent && !Files.exists(archive)) {
            long now = System.nanoTime();
            mine = new ArchiveWriter(id, now);
            writesArchive = archiveWriters.merge(archive, mine, (w, m) -> w.overdue(now) || w.ended() ? m : w) == mine;
        }
        // While its writer lives, the file may be half written: a JVM that mapped it would find it
        // invalid, run without it and write it again at its own exit.
        ArchiveWriter writer = archiveWriters.get(archive);
        if (writesArchive) {
            evictArchives(config.caches().resolve("cds"), ARCHIVES_KEPT, archive, archiveWriters.keySet());
        } else if (Files.exists(archive)) {
            touch(archive); // used: the newest are the ones kept
        }
        if (writesArchive || (Files.exists(archive) && (writer == null || writer.ended()))) {
            cmd.add("-XX:+AutoCreateSharedArchive"); // uses the archive, or writes it (or a stale one) at exit
            cmd.add("-XX:SharedArchiveFile=" + archive);
            cmd.add("-Xlog:cds=off,cds+dynamic=off");
        }
        cmd.addAll(spec.jvmArgs());
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, classpath));
        cmd.add(WorkerMain.class.getName());
        cmd.addAll(mainArgs);
        try {
            Files.createDirectories(config.caches().resolve("cds"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
            .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("stderr").toFile()));
        pb.environment().putAll(spec.env());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            if (writesArchive) {
                releaseArchiveWriter(archive, id);
            }
            throw new CircuitException("cannot start a worker JVM on host " + config.name() + ": " + e.getMessage(), e);
        }
        try {
            WorkerDir.recordStart(dir, p.toHandle()); // so that 'circuit clear' can tell it ended if this host cannot
        } catch (IOException e) {
            LOG.warn("worker {}: cannot write {} in {}: {}", id, WorkerDir.PID, dir, e.getMessage());
        }
        CompletableFuture<String> ready = new CompletableFuture<>();
        CompletableFuture<String> announced = new CompletableFuture<>();
        Jvm jvm = new Jvm(id, dir, p, ready, announced, writesArchive);
        if (writesArchive) {
            mine.process = p.toHandle();
            // written; or not, and the next JVM tries, or one of the host's own
            p.onExit().thenRun(() -> archiveWriterEnded(archive, id, jvm, classpath, spec, key));
        }
        // A platform thread: it blocks reading a pipe for the worker's whole life. A virtual thread would
        // hold its carrier meanwhile (a pipe read does not unmount it, and the scheduler does not always
        // add a carrier in its place): two idle workers' readers were seen to take both carriers of a
        // 2-CPU host, and no call into the host ran again.
        Thread.ofPlatform().daemon().name("worker-out-" + id).start(() -> copyOut(p, dir.resolve("stdout"), ready, announced));
        return jvm;
    }

    /** Worker {@code id} no longer stands to write {@code archive}. */
    private void releaseArchiveWriter(Path archive, WorkerId id) {
        archiveWriters.computeIfPresent(archive, (a, w) -> w.id.equals(id) ? null : w);
    }

    /**
     * Copies the worker's stdout into its file as it comes ({@link WorkerStdout}), completing {@code ready}
     * with its READY line and {@code announced} with its WORKER line.
     */
    private static void copyOut(Process p, Path file, CompletableFuture<String> ready, CompletableFuture<String> announced) {
        try (InputStream in = p.getInputStream(); OutputStream out = Files.newOutputStream(file)) {
            new WorkerStdout(out, ready, announced).copy(in);
        } catch (IOException e) {
            // the worker is gone
        } finally {
            ready.completeExceptionally(new IllegalStateException("the JVM exited before its runtime was up"));
            announced.completeExceptionally(new IllegalStateException("the worker exited before announcing itself"));
        }
    }

    /** The end of a worker's stdout, where the JVM prints some of its own fatal errors, when there is any. */
    private static String outputTail(Path dir) {
        String tail = tail(dir.resolve("stdout"));
        return tail.isEmpty() ? "" : "\nand its stdout" + tail;
    }

    private static String tail(Path file) {
        try {
            List<String> lines = WorkerDir.tail(file, 5, WorkerDir.MAX_TAIL_BYTES);
            return lines.isEmpty() ? "" : ":\n  " + String.join("\n  ", lines);
        } catch (IOException e) {
            return "";
        }
    }

    /** Counts {@code running} among this host's workers until its process ends, and handles its end then. */
    private void track(Running running) {
        workers.put(running.info().id(), running);
        followEnd(running);
    }

    /** Handles the end of {@code running}, counted among this host's workers, once its process ends. */
    private void followEnd(Running running) {
        running.process().onExit().thenRun(() -> {
            try {
                exited(running.info(), running.child());
            } finally {
                running.gone().complete(null);
            }
        });
    }

    /** Why a request is refused while the host stops. */
    private String stopping() {
        String holder = lostTo;
        return "host " + config.name() + " is stopping" + (holder == null ? "" : ": its name is held by " + holder);
    }

    /**
     * A worker of an earlier run of this host, running as it started ({@link #survivors}): its process,
     * named by its directory's pid file, and while it is not filed under {@code /host/<name>}, the watch
     * on its entry there. {@code ended} completes once its end is handled, as a survivor's or, taken
     * back meanwhile, as a worker's.
     */
    private static final class Survivor {
        final ProcessHandle process;
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        private io.jcircuit.Subscription watch;
        private boolean unwatched;

        Survivor(ProcessHandle process) {
            this.process = process;
        }

        /** Keeps {@code w} until {@link #stopWatching}; closes it at once if that came first. */
        void watchWith(io.jcircuit.Subscription w) {
            synchronized (this) {
                if (!unwatched) {
                    watch = w;
                    return;
                }
            }
            w.close();
        }

        /** Closes the watch on its entry, if any. Idempotent. */
        void stopWatching() {
            io.jcircuit.Subscription w;
            synchronized (this) {
                unwatched = true;
                w = watch;
                watch = null;
            }
            if (w != null) {
                w.close(); // outside the lock: removing the watch asks ZooKeeper
            }
        }
    }

    /**
     * Finds the workers of earlier runs that run now: each directory of {@code workers/} that holds spawn
     * metadata (a warm JVM left by a host killed with {@code kill -9} never became a worker) and whose pid
     * file names a process that runs. Called once, before the host serves: every directory made later is
     * one of its own spawns, which must not be taken back.
     */
    private void findSurvivors() {
        try (var dirs = Files.newDirectoryStream(workersDir)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (WorkerId.looksLikeWorkerId(name) && Files.exists(dir.resolve(WorkerMain.META_FILE))) {
                    WorkerDir.runningProcess(dir).ifPresent(p -> survivors.put(WorkerId.parse(name), new Survivor(p)));
                }
            }
        } catch (IOException e) {
            LOG.warn("host {} cannot look for workers that outlived its last run in {}: {}", config.name(), workersDir, e.toString());
        }
    }

    /**
     * Takes back the workers that outlived this host's last run ({@link #survivors}; daemonized ones, whose
     * entries under {@code /host/<name>} stay while they run): they count among its workers again,
     * {@code kill} reaches them, and their end is handled. One counts as taken back once it is filed there
     * with the process its directory's pid file names. One that is not filed now (it lost its ZooKeeper
     * session while this host was down, and files itself again once it is back) is taken back when it
     * files itself: a watch on its own entry looks again, and on each reconnect. One that ends first has
     * its end handled as a worker's.
     */
    private void takeBackSurvivors() {
        List<io.jcircuit.Entry> entries;
        try {
            entries = runtime.anchors().list("/host/" + config.name()).entries();
        } catch (RuntimeException e) {
            LOG.warn("host {} cannot look for workers that outlived its last run yet: {}", config.name(), e.getMessage());
            entries = List.of(); // each is looked for again below, and once ZooKeeper is back
        }
        for (io.jcircuit.Entry e : entries) {
            if (!HostService.ROLE_WORKER.equals(e.metadata().get(HostService.ROLE_KEY)) || workers.containsKey(e.worker())) {
                continue;
            }
            Survivor s = survivors.get(e.worker());
            if (s != null) {
                takeBack(e, s);
                continue;
            }
            Path dir = workersDir.resolve(e.worker().toString());
            if (Files.isDirectory(dir) && ProcessHandle.of(e.pid()).map(h -> !h.isAlive()).orElse(true)) {
                // one of this host's workers, which ended while it was down: the forwarding records that
                // lead only to it go, as when it is seen to end. Its entries may outlast it by its session's
                // timeout (an embedded ZooKeeper started again keeps the sessions it had until they time
                // out), so the sweep of the ended workers' records would not take it for ended
                runtime.forgetForwardsTo(e.worker());
            }
        }
        survivors.forEach(this::awaitFiling);
        if (!survivors.isEmpty()) {
            survivorLook.signal(); // one may have filed itself between the listing and its watch, or not been listed
        }
        publisher.signal();
    }

    /** Takes back survivor {@code s} once it files itself under {@code /host/<name>}, and handles its end if it ends first. */
    private void awaitFiling(WorkerId id, Survivor s) {
        LOG.info("host {}: worker {} (pid {}) outlived its last run but is not filed under /host/{} (it lost its ZooKeeper"
            + " session meanwhile, say); it is taken back once it files itself again", config.name(), id, s.process.pid(), config.name());
        try {
            s.watchWith(((NamespaceAnchors) runtime.anchors()).watchEntry("/host/" + config.name(), id, survivorLook::signal));
        } catch (RuntimeException e) {
            LOG.warn("host {} cannot watch for worker {} to file itself again, and will not take it back while it runs"
                + " (its end is handled): {}", config.name(), id, e.getMessage());
        }
        s.process.onExit().thenRun(() -> survivorEnded(id, s));
    }

    /** Takes back the survivors filed under {@code /host/<name>} now; run by {@link #survivorLook}. */
    private void lookForSurvivors() {
        if (closed || survivors.isEmpty()) {
            return;
        }
        List<io.jcircuit.Entry> entries;
        try {
            entries = runtime.anchors().list("/host/" + config.name()).entries();
        } catch (RuntimeException e) {
            // the watches look again once ZooKeeper is back
            LOG.debug("host {} cannot look for the workers of its last run that filed themselves again: {}", config.name(), e.toString());
            return;
        }
        boolean took = false;
        for (io.jcircuit.Entry e : entries) {
            Survivor s = survivors.get(e.worker());
            if (s != null && HostService.ROLE_WORKER.equals(e.metadata().get(HostService.ROLE_KEY))) {
                took |= takeBack(e, s);
            }
        }
        if (took) {
            publisher.signal();
        }
    }

    /**
     * Counts survivor {@code s}, filed as {@code e}, among this host's workers, once: unless its entry names
     * another process, it was taken back or ended meanwhile, or the host stops. Returns whether it did.
     */
    private boolean takeBack(io.jcircuit.Entry e, Survivor s) {
        if (e.pid() != s.process.pid()) {
            return false; // not the process its directory's pid file names
        }
        Path dir = workersDir.resolve(e.worker().toString());
        Running r = new Running(new SpawnedWorker(e.worker(), e.address(), config.name(), dir.toString(), e.pid()),
            s.process, null, Boolean.parseBoolean(e.metadata().get("daemon")), new CompletableFuture<>());
        synchronized (this) { // as close(), which kills the workers counted when it runs
            if (closed || !survivors.remove(e.worker(), s)) {
                return false;
            }
            workers.put(e.worker(), r);
        }
        s.stopWatching();
        r.gone().thenRun(() -> s.ended.complete(null));
        followEnd(r);
        LOG.info("host {} took back worker {} (pid {}), which outlived its last run", config.name(), e.worker(), e.pid());
        return true;
    }

    /** Survivor {@code s} ended: unless it was taken back (its end is handled as a worker's), its end is handled here. */
    private void survivorEnded(WorkerId id, Survivor s) {
        if (!survivors.remove(id, s)) {
            return;
        }
        try {
            s.stopWatching();
            LOG.info("worker {} (pid {}), which outlived host {}'s last run, ended before it filed itself again",
                id, s.process.pid(), config.name());
            removeTracesOf(id, "an unknown status");
        } finally {
            s.ended.complete(null);
        }
    }

    /**
     * Whether {@code worker} runs on this machine as one of this host's workers: one it counts, or one whose
     * directory's pid file names a process that runs. The latter covers a worker that outlived this host's
     * last run and lost its ZooKeeper session meanwhile: it was not filed when this host took the others
     * back, but it runs, and files itself again once it can. What this host answers when asked which workers
     * it runs ({@link HostService#running}), and what its own runtime counts as running ({@link
     * CircuitRuntime#knowsRunning}).
     */
    private boolean runsHere(WorkerId worker) {
        return workers.containsKey(worker) || WorkerDir.runningProcess(workersDir.resolve(worker.toString())).isPresent();
    }

    /** Handles the end of worker {@code w}; {@code p} is its process when this host started it (null: taken back). */
    private void exited(SpawnedWorker w, Process p) {
        workers.remove(w.id());
        int status = p == null ? -1 : p.exitValue();
        if (p != null) {
            try {
                Files.writeString(Path.of(w.dir()).resolve(WorkerDir.EXIT), status + "\n");
            } catch (IOException ignored) {
                // the directory may have been cleared
            }
        }
        removeTracesOf(w.id(), p == null ? "an unknown status" : "status " + status);
    }

    /**
     * Removes what worker {@code id}, which ended with {@code how}, leaves in the namespace: its entries,
     * and the forwarding records that lead only to it. Nothing while the host stops.
     */
    private void removeTracesOf(WorkerId id, String how) {
        if (closed) {
            return;
        }
        try {
            int n = ((NamespaceAnchors) runtime.anchors()).removeEntriesOf(id);
            LOG.info("worker {} exited with {}; removed its {} entries", id, how, n);
        } catch (RuntimeException e) {
            if (closed) {
                // the host stopped meanwhile and closed its connection; the worker's session ends
                // its ephemeral entries anyway
                LOG.debug("worker {} exited while host {} stopped: {}", id, config.name(), e.getMessage());
            } else {
                LOG.warn("worker {} exited; could not remove its entries yet: {}", id, e.getMessage());
            }
        }
        publisher.signal(); // one writer, so an older count cannot land after a newer one
        // the forwarding records of hot swaps that lead only to it go (now, or once ZooKeeper is back):
        // a crashed worker deletes none itself
        runtime.forgetForwardsTo(id);
    }

    private boolean kill(WorkerId id) {
        Running r = workers.get(id);
        if (r == null) {
            Survivor s = survivors.get(id);
            return s != null ? killSurvivor(s) : killWarm(id);
        }
        r.process().destroyForcibly();
        try {
            r.gone().get(5, TimeUnit.SECONDS); // ended, and its entries removed
        } catch (Exception ignored) {
            // reported by exited() when it happens
        }
        return true;
    }

    /**
     * Kills a worker of this host's last run that is not filed, and so not taken back yet: it runs from this
     * host's workers directory, and a kill that asks every host, as one of a worker no longer filed does
     * ({@code circuit kill ID}, {@code Worker.kill}), reaches it here. Returns once its end is handled.
     */
    private boolean killSurvivor(Survivor s) {
        s.process.destroyForcibly();
        try {
            s.ended.get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // reported when its end is handled
        }
        return true;
    }

    /**
     * Kills the warm JVM {@code id}, if this host keeps it or writes a class archive with it: such a
     * JVM is filed under {@code /worker} (its runtime is up), so an operator can select it like a
     * worker. Returns whether it was here.
     */
    private boolean killWarm(WorkerId id) {
        Jvm found = null;
        synchronized (warmPool) {
            for (java.util.ArrayDeque<Jvm> q : warmPool.values()) {
                found = q.stream().filter(j -> j.id().equals(id)).findFirst().orElse(null);
                if (found != null) {
                    q.remove(found);
                    break;
                }
            }
        }
        if (found == null) {
            found = archiveJvms.stream().filter(j -> j.id().equals(id)).findFirst().orElse(null);
        }
        if (found == null) {
            return false;
        }
        discard(found);
        found.process().onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> null).join(); // gone when this returns
        return true;
    }

    /**
     * Waits up to {@code timeout} for the workers that are not daemonized to exit by themselves, as
     * they do once their spawner is gone; a worker told to write the class archive writes it as it
     * exits, which a kill would prevent. Returns whether they all exited.
     */
    public boolean awaitWorkersExit(java.time.Duration timeout) {
        CompletableFuture<?>[] exits = workers.values().stream().filter(r -> !r.daemon())
            .map(r -> r.process().onExit()).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(exits).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops the host: kills its non-daemon workers, removes its entry, closes its runtime. Idempotent. */
    @Override
    public void close() {
        close(false);
    }

    /**
     * Stops the host; with {@code killDaemonized}, its daemonized workers too, as when the whole
     * circuit goes away with it ({@code circuit run --local}). Idempotent.
     */
    public synchronized void close(boolean killDaemonized) {
        if (closed) {
            return;
        }
        closed = true;
        survivorLook.close();
        synchronized (warmPool) {
            warmPool.values().forEach(q -> q.forEach(HostDaemon::discard));
            warmPool.clear();
        }
        archiveJvms.forEach(HostDaemon::discard);
        List<Jvm> starting = List.copyOf(warmStarting);
        starting.forEach(HostDaemon::discard);
        for (Jvm j : starting) {
            // gone when close returns, as the workers are: a process that exits soon after could outlive it
            j.process().onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
        Thread refreshing = refresher;
        if (refreshing != null) {
            refreshing.interrupt();
        }
        for (Running r : workers.values()) {
            if (killDaemonized || !r.daemon()) {
                r.process().destroyForcibly();
            }
        }
        for (Running r : workers.values()) {
            if (killDaemonized || !r.daemon()) {
                r.process().onExit().join();
            }
        }
        publisher.close();
        evictor.close();
        runtime.close();
        // after the runtime: its session, closed, takes the watches with it rather than one by one
        survivors.values().forEach(Survivor::stopWatching);
        survivors.clear();
        stopped.countDown();
        LOG.info("host {} stopped", config.name());
    }

    private final class Service implements HostService {
        @Override
        public SpawnedWorker spawn(SpawnSpec spec) {
            return HostDaemon.this.spawn(spec);
        }

        @Override
        public boolean offerJar(JarRef ref, JarSource source) {
            if (closed || lostTo != null) {
                throw new IllegalStateException(stopping());
            }
            if (!jars.offerDeployed(ref, source)) {
                return false;
            }
            evictor.signal();
            LOG.info("host {} cached {} ({} bytes, SHA-256 {})", config.name(), ref.name(), ref.size(), ref.sha256());
            return true;
        }

        @Override
        public io.jcircuit.Proc exec(io.jcircuit.ExecSpec spec) {
            if (closed || lostTo != null) {
                throw new IllegalStateException(stopping());
            }
            HostProc p = HostProc.start(config.name(), runtime, config.stateDir().resolve("procs"), spec, procAnchors);
            LOG.info("host {} runs process {}: {}", config.name(), p.pid(), spec.command());
            return runtime.ref(io.jcircuit.Proc.class, p);
        }

        @Override
        public boolean kill(WorkerId worker) {
            return HostDaemon.this.kill(worker);
        }

        @Override
        public List<SpawnedWorker> workers() {
            return workers.values().stream().map(Running::info).toList();
        }

        @Override
        public java.util.Set<WorkerId> running(java.util.Set<WorkerId> asked) {
            Objects.requireNonNull(asked, "workers");
            java.util.Set<WorkerId> runs = new java.util.HashSet<>();
            for (WorkerId w : asked) {
                if (runsHere(Objects.requireNonNull(w, "a worker id in workers"))) {
                    runs.add(w);
                }
            }
            return runs;
        }

        @Override
        public List<String> workerFile(WorkerId worker, String name, int lines) {
            if (!WORKER_FILES.contains(name)) {
                throw new IllegalArgumentException("no worker file '" + name + "': one of " + WORKER_FILES);
            }
            if (lines < 1) {
                throw new IllegalArgumentException("lines must be at least 1, not " + lines);
            }
            Path dir = workersDir.resolve(worker.toString());
            if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return null;
            }
            try {
                return WorkerDir.tail(dir.resolve(name), lines, WorkerDir.MAX_TAIL_BYTES);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir.resolve(name) + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void stop() {
            Thread.ofVirtual().name("host-stop").start(HostDaemon.this::close); // answer first
        }
    }
}
