package io.jcircuit.runtime.ops;

import io.jcircuit.Chan;
import io.jcircuit.CircuitException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The {@link Ops} service of one runtime. It reaches the runtime only through {@link RuntimeView},
 * and the JVM through {@link Diagnostics}, {@link Profiler} and {@link LogControl}.
 */
public final class OpsService implements Ops {

    private static final Logger LOG = LoggerFactory.getLogger(OpsService.class);
    private static final int CHUNK = 256 * 1024;
    private static final int MAX_LINES = 100_000;
    /**
     * How long a log follower's pump waits for a line before it asks the follower's channel whether it
     * is still open: a follower that closed it is let go of without waiting for a line (an idle runtime
     * may log none for hours). One small call per follower per interval while nothing is logged.
     */
    static final Duration FOLLOWER_CHECK = Duration.ofSeconds(1);

    /** What the ops service needs from its runtime. */
    public interface RuntimeView {
        String worker();

        /** Closed by its application (or on its way out): nothing of it is to exit the process any more. */
        boolean isClosed();

        String address();

        String host();

        long startedMillis();

        /** Directories this runtime is filed under; empty without a namespace. */
        List<String> anchors();

        List<String> services();

        /** The interface and class of every service but {@link Ops#SERVICE}. */
        List<OpsInfo.ServiceType> serviceTypes();

        List<String> peers();

        /** Null when the runtime keeps no call metrics. */
        CallMetrics metrics();

        /** Requests from other runtimes being served now. */
        int callsRunning();

        /** Waits until at most {@code n} requests are being served, or {@code deadline}; returns how many are. */
        int awaitCallsRunningAtMost(int n, long deadline) throws InterruptedException;

        /** Withdraws the anchors of the runtime's choosing; returns their directories. */
        List<String> withdrawAnchors();

        /** Stops listening under every service name but {@link Ops#SERVICE}; returns the names. */
        List<String> stopServices();

        /** Closes the runtime (not the process). */
        void close();

        /** Hot swap, first step: see {@code CircuitRuntime.freezeService}. */
        Object freezeService(String name, Duration drain) throws InterruptedException;

        /** Hot swap, last step: see {@code CircuitRuntime.forwardService}. */
        void forwardService(String name, Object replacement);

        /** Hot swap rolled back: see {@code CircuitRuntime.reopenService}. */
        void reopenService(String name);

        /** The services a hot swap froze and neither forwarded nor reopened yet. */
        List<String> frozenServices();

        /**
         * Runs {@code action} once no service is frozen by a hot swap: at once when none is, else on the
         * thread of the swap step that lets the last freeze go, once that step is done. It must be quick.
         */
        void whenNoServiceFrozen(Runnable action);

        /** The services a hot swap forwarded from here and did not take back. */
        List<String> forwardedServices();

        /** Those of {@link #forwardedServices} whose replacement this runtime has no connected link to now. */
        List<String> forwardedToTheUnreachable();

        /**
         * How many of the runtime's objects other than its services other runtimes hold now, stored in the
         * durable store or not.
         */
        int heldRemotely();

        /**
         * How many forwarding records of its hot swaps (in the durable store) are not written yet: ZooKeeper
         * was away when they were due. They are written again until they are.
         */
        int forwardingRecordsUnwritten();

        /**
         * Runs {@code action} once the runtime that {@code reference} lives on has ended its session with
         * this one; the action is kept until then, or until the returned subscription is closed.
         */
        io.jcircuit.Subscription whenHomeEnds(Object reference, Runnable action);
    }

    private final RuntimeView runtime;
    private final RuntimeSettings settings;
    private final LogControl logs;
    private final String classpathHash = classpathHash();
    private final Diagnostics diagnostics = new Diagnostics();
    /** Made on first use: loading async-profiler's native library has no place in a worker's start. */
    private Profiler profiler;

    public OpsService(RuntimeView runtime, RuntimeSettings settings, LogControl logs) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.logs = Objects.requireNonNull(logs, "logs");
        if (logs.available()) {
            logs.ring(); // from the start, so that the tail holds what the worker logged before anyone asked
        }
    }

    /** The profiler, made on first use. */
    private synchronized Profiler profiler() {
        if (profiler == null) {
            profiler = new Profiler();
        }
        return profiler;
    }

    @Override
    public long ping(long nonce) {
        return nonce;
    }

    @Override
    public OpsInfo info() {
        Runtime jvm = Runtime.getRuntime();
        String version = OpsService.class.getPackage().getImplementationVersion();
        return new OpsInfo(runtime.worker(), runtime.address(), runtime.host(), ProcessHandle.current().pid(),
            version == null ? "development build" : version, classpathHash, runtime.startedMillis(),
            System.currentTimeMillis() - runtime.startedMillis(), runtime.anchors(), runtime.services(),
            System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
            jvm.availableProcessors(), jvm.maxMemory(), profiler().engine(), runtime.peers(), runtime.serviceTypes());
    }

    @Override
    public String threadDump(boolean json) {
        try {
            return diagnostics.threadDump(json);
        } catch (IOException e) {
            throw new CircuitException("cannot dump the threads of worker " + runtime.worker() + ": " + e, e);
        }
    }

    @Override
    public FlameGraph profile(String kind, int seconds) {
        if (seconds < 1 || seconds > 600) {
            throw new IllegalArgumentException("profile for 1 to 600 seconds, not " + seconds);
        }
        ProfileKind k = ProfileKind.parse(Objects.requireNonNull(kind, "kind"));
        Path dir = null;
        try {
            dir = scratchDirectory(PROFILE_SCRATCH);
            Profiler p = profiler();
            Path html = dir.resolve("flame.html");
            String engine = p.profileTo(k, Duration.ofSeconds(seconds), html);
            return new FlameGraph(k.name().toLowerCase(java.util.Locale.ROOT), engine, seconds,
                Files.readAllBytes(html));
        } catch (IOException e) {
            throw new CircuitException("cannot write the profile on worker " + runtime.worker() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CircuitException("the profile on worker " + runtime.worker() + " was interrupted", e);
        } finally {
            deleteTree(dir);
        }
    }

    @Override
    public List<HistogramRow> heapHistogram(int top) {
        if (top < 1) {
            throw new IllegalArgumentException("top must be positive, not " + top);
        }
        return diagnostics.heapHistogramRows(Math.min(top, 100_000));
    }

    @Override
    public long heapDump(boolean liveOnly, Chan<byte[]> sink) {
        Objects.requireNonNull(sink, "sink");
        Path dir;
        Path file;
        try {
            dir = scratchDirectory(HEAP_SCRATCH);
            file = diagnostics.heapDump(dir.resolve("heap.hprof"), liveOnly);
        } catch (IOException e) {
            throw new CircuitException("cannot dump the heap of worker " + runtime.worker() + ": " + e, e);
        }
        long size;
        InputStream in;
        try {
            size = Files.size(file);
            in = Files.newInputStream(file);
        } catch (IOException e) {
            deleteTree(dir);
            throw new CircuitException("cannot read the heap dump of worker " + runtime.worker() + ": " + e, e);
        }
        // Open, the file's bytes stay readable once its name is gone (on the systems a worker runs on), and
        // a process killed while it streams leaves no copy of its heap behind.
        deleteTree(dir);
        Path d = dir;
        Thread.ofVirtual().name("circuit-heap-dump-" + runtime.worker()).start(() -> stream(in, sink, d));
        return size;
    }

    private void stream(InputStream opened, Chan<byte[]> sink, Path dir) {
        try (InputStream in = opened) {
            byte[] buf = new byte[CHUNK];
            int n;
            while ((n = in.readNBytes(buf, 0, CHUNK)) > 0) {
                sink.send(java.util.Arrays.copyOf(buf, n));
            }
            sink.close();
        } catch (IOException | RuntimeException e) {
            LOG.warn("heap dump stream of {} stopped: {}", runtime.worker(), e.toString());
        } finally {
            deleteTree(dir);
        }
    }

    @Override
    public MetricsSnapshot metrics() {
        CallMetrics m = runtime.metrics();
        return new MetricsSnapshot(runtime.worker(), System.currentTimeMillis(),
            System.currentTimeMillis() - runtime.startedMillis(), m == null ? List.of() : m.snapshot(), jvmStats());
    }

    static JvmStats jvmStats() {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long gcCount = 0;
        long gcMillis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcCount += Math.max(0, gc.getCollectionCount());
            gcMillis += Math.max(0, gc.getCollectionTime());
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double cpuLoad = -1;
        long cpuTime = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpuLoad = os.getProcessCpuLoad();
            cpuTime = os.getProcessCpuTime();
        }
        var heap = mem.getHeapMemoryUsage();
        return new JvmStats(heap.getUsed(), heap.getCommitted(), heap.getMax(), mem.getNonHeapMemoryUsage().getUsed(),
            gcCount, gcMillis, threads.getThreadCount(), threads.getPeakThreadCount(),
            ManagementFactory.getClassLoadingMXBean().getLoadedClassCount(), cpuLoad, rss(), cpuTime);
    }

    /** Resident set size from {@code /proc/self/status}, or 0. */
    private static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] f = line.trim().split("\\s+");
                    return Long.parseLong(f[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: unknown
        }
        return 0;
    }

    @Override
    public List<String> logTail(int lines) {
        return logs.tail(Math.clamp(lines, 0, MAX_LINES));
    }

    @Override
    public void logFollow(Chan<String> sink, int backlog) {
        Objects.requireNonNull(sink, "sink");
        LogRing ring = logs.ring();
        // Lines go out on one virtual thread, in order: a follower that logs never blocks the logger.
        java.util.concurrent.LinkedBlockingQueue<String> queue = new java.util.concurrent.LinkedBlockingQueue<>(10_000);
        Consumer<String> follower = line -> {
            if (!queue.offer(line)) {
                queue.clear(); // a follower that cannot keep up loses lines, never the worker's memory
                queue.offer("... lines dropped: the follower fell behind");
            }
        };
        List<String> before = ring.tailAndFollow(Math.clamp(backlog, 0, MAX_LINES), follower); // no line between them lost
        io.jcircuit.Subscription[] homeEnds = {null}; // set before the pump starts, which orders it for the pump
        Thread pump = Thread.ofVirtual().name("circuit-log-follow-" + runtime.worker()).unstarted(() -> {
            try {
                pump(sink, before, queue);
            } finally {
                ring.unfollow(follower);
                homeEnds[0].close(); // else the follower's runtime kept the action, and through it this thread and the sink
            }
        });
        try {
            // a follower whose runtime went away is seen at once, not at the next line logged
            homeEnds[0] = runtime.whenHomeEnds(sink, pump::interrupt);
        } catch (RuntimeException e) {
            ring.unfollow(follower);
            throw e;
        }
        pump.start();
    }

    /** Sends {@code before}, then the lines {@code queue} gets, into {@code sink}, until the follower goes away. */
    private void pump(Chan<String> sink, List<String> before, java.util.concurrent.BlockingQueue<String> queue) {
        try {
            for (String l : before) {
                sink.send(l);
            }
            sink.flush();
            while (true) {
                String l = queue.poll(FOLLOWER_CHECK.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                if (l == null) {
                    sink.core().sendBatch(List.of(), 0); // sends nothing; throws once the follower closed it
                    continue;
                }
                sink.send(l);
                if (queue.isEmpty()) {
                    sink.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.debug("log follower of {} went away: {}", runtime.worker(), e.toString());
        }
    }

    @Override
    public Map<String, String> settings() {
        return settings.values();
    }

    @Override
    public String get(String key) {
        return settings.get(key);
    }

    @Override
    public String set(String key, String value) {
        String now = settings.set(key, value);
        LOG.info("setting {} set to {} by an operator", key, now);
        return now;
    }

    @Override
    public DrainReport drain(long timeoutMillis) {
        return drain(timeoutMillis, 1); // this call is one of the calls being served
    }

    /** {@link #drain}, with {@code asking} of the calls being served waiting for it (not waited for). */
    private DrainReport drain(long timeoutMillis, int asking) {
        long start = System.nanoTime();
        List<String> anchors = runtime.withdrawAnchors();
        List<String> services = runtime.stopServices();
        long deadline = start + Math.max(0, timeoutMillis) * 1_000_000L;
        int left;
        try {
            left = Math.max(0, runtime.awaitCallsRunningAtMost(asking, deadline) - asking);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            left = Math.max(0, runtime.callsRunning() - asking);
        }
        LOG.info("drained: anchors {} withdrawn, services {} stopped, {} calls still running", anchors, services, left);
        return new DrainReport(anchors, services, left, (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public Object swapFreeze(String service, long drainMillis) {
        try {
            return runtime.freezeService(service, Duration.ofMillis(Math.max(0, drainMillis)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            runtime.reopenService(service);
            throw new CircuitException("interrupted while freezing service '" + service + "'", e);
        }
    }

    @Override
    public void swapForward(String service, Object replacement) {
        runtime.forwardService(service, replacement);
        if (swapDriverGone) {
            // a take-over its driver began before it ended (the command killed while the replacement started)
            Thread.ofVirtual().name("circuit-orphaned-swap").start(this::finishOrphanedSwaps);
        }
    }

    @Override
    public void swapAbort(String service) {
        runtime.reopenService(service);
    }

    @Override
    public void exit(int status) {
        if (status < 0 || status > 255) {
            // the operating system keeps the low 8 bits: 300 would end the process with 44, unsaid
            throw new IllegalArgumentException("an exit status is 0 to 255, not " + status);
        }
        LOG.info("exit({}) requested by an operator", status);
        // Answer first: the exit runs once this call has returned and its answer had a moment to leave.
        Thread.ofPlatform().name("circuit-exit").start(() -> exitNow(status));
    }

    @Override
    public void swapDrivenBy(Object driver) {
        // the action runs on a virtual thread of its own, once; a driver that ends normally finds this worker retiring
        swapDriver = driver;
        swapDriverGone = false; // a swap that ended before (rolled back) no longer speaks for this one
        runtime.whenHomeEnds(driver, () -> {
            if (swapDriver != driver) {
                return; // a later swap's driver runs this worker's swap now
            }
            swapDriverGone = true;
            finishOrphanedSwaps();
        });
    }

    /** The runtime that runs this worker's hot swap, as its reference ({@link #swapDrivenBy}); null before any. */
    private volatile Object swapDriver;
    /** Set once {@link #swapDriver} is gone: a forward from then on is an orphan's too. */
    private volatile boolean swapDriverGone;
    /** One {@link #finishOrphanedSwap} at a time. */
    private final java.util.concurrent.atomic.AtomicBoolean finishing = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Runs {@link #finishOrphanedSwap} unless one runs, and again while a forward came that it did not see: a
     * swap killed before the freeze had its finish find nothing to do, and the take-over it had begun froze and
     * forwarded the service after (a probe's old worker then served on next to its replacement for good).
     */
    private void finishOrphanedSwaps() {
        while (finishing.compareAndSet(false, true)) {
            boolean done;
            try {
                done = finishOrphanedSwap();
            } finally {
                finishing.set(false);
            }
            if (done || runtime.forwardedServices().isEmpty()) {
                return;
            }
        }
    }

    /** How long a worker whose swap was orphaned waits for its calls to end: {@code circuit swap}'s default drain. */
    static final Duration ORPHANED_DRAIN = Duration.ofSeconds(10);
    /** How long a worker whose swap was orphaned redirects callers before it retires: {@code circuit swap}'s default linger. */
    static final Duration ORPHANED_LINGER = Duration.ofSeconds(5);

    /**
     * The runtime that ran a hot swap of this worker is gone ({@link #swapDrivenBy}): finishes the swap as it
     * would have, once no service is frozen any more. False when it found nothing forwarded yet, and the worker
     * not retiring: a take-over still on its way may forward a service later.
     */
    private boolean finishOrphanedSwap() {
        try {
            // A replacement still taking a service over forwards it or rolls it back; a freeze that neither
            // does lets go by itself (CircuitRuntime.FREEZE_LIMIT). The step that lets the last one go wakes this.
            List<String> frozen = runtime.frozenServices();
            if (!retiring && !frozen.isEmpty()) {
                LOG.info("the runtime that ran the hot swap of this worker is gone: it finishes the swap once {} no"
                    + " longer frozen", frozen.size() == 1 ? frozen + " is" : frozen + " are");
            }
            java.util.concurrent.CompletableFuture<Void> unfrozen = new java.util.concurrent.CompletableFuture<>();
            runtime.whenNoServiceFrozen(() -> unfrozen.complete(null));
            java.util.concurrent.CompletableFuture.anyOf(unfrozen, retired).get();
            List<String> forwarded = runtime.forwardedServices();
            if (retiring) {
                return true; // retired by the swap
            }
            if (forwarded.isEmpty()) {
                return false; // rolled back, or not frozen yet: nothing to do unless a forward comes
            }
            List<String> serving = runtime.serviceTypes().stream().map(OpsInfo.ServiceType::name).toList();
            if (!serving.isEmpty()) {
                LOG.warn("the hot swap that forwarded {} from this worker ended before it took {} over (the runtime that ran"
                    + " it is gone): this worker serves {} on, and its callers of {} follow the move", forwarded, serving,
                    serving, forwarded);
                return true;
            }
            List<String> lost = runtime.forwardedToTheUnreachable();
            if (!lost.isEmpty()) {
                // its callers follow the move to a replacement that does not answer: this worker's exit helps none
                LOG.error("the hot swap that forwarded {} from this worker ended before it retired it (the runtime that ran"
                    + " it is gone), and the replacement of {} cannot be reached: this worker stays; take the service back"
                    + " or end the worker", forwarded, lost);
                return true;
            }
            LOG.warn("the hot swap that forwarded {} from this worker ended before it retired it (the runtime that ran it"
                + " is gone): it drains, lingers {} s and retires by itself", forwarded, ORPHANED_LINGER.toSeconds());
            drain(ORPHANED_DRAIN.toMillis(), 0);
            Thread.sleep(ORPHANED_LINGER.toMillis()); // the linger: callers holding references follow the move
            if (!retiring && !runtime.isClosed()) {
                retire();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | java.util.concurrent.ExecutionException e) {
            LOG.warn("the hot swap of this worker ended before it retired it, and the worker could not finish it: {}", e.toString());
        }
        return true;
    }

    /** Set by {@link #retire}: the worker exits once nothing holds it. */
    private volatile boolean retiring;
    /** Completed by {@link #retire}: an orphaned swap's finish that waits for a freeze to go has nothing left to do. */
    private final java.util.concurrent.CompletableFuture<Void> retired = new java.util.concurrent.CompletableFuture<>();

    @Override
    public int retire() {
        retiring = true;
        retired.complete(null);
        int held = runtime.heldRemotely();
        int unwritten = runtime.forwardingRecordsUnwritten();
        LOG.info("retiring: exits once no other runtime holds a reference to its objects ({} held now) and its"
            + " forwarding records are written ({} not yet)", held, unwritten);
        Thread.ofPlatform().daemon().name("circuit-retire").start(() -> {
            try {
                awaitFree(System.nanoTime() + RECORDS_WAIT_LIMIT.toNanos());
            } catch (InterruptedException e) {
                return; // the process is ending anyway
            }
            if (runtime.isClosed()) {
                return; // its application closed it meanwhile: the process is the application's to end
            }
            LOG.info("retired: no other runtime holds a reference to its objects; exiting");
            exitNow(0);
        });
        return held;
    }

    /**
     * Returns once no other runtime holds one of the runtime's objects (but its services), and its forwarding
     * records are written or {@code recordsDeadline} (a {@link System#nanoTime}) has passed.
     */
    private void awaitFree(long recordsDeadline) throws InterruptedException {
        // twice in a row, so that a reference being handed on between two holders is not missed
        boolean freeBefore = false;
        boolean gaveUpOnRecords = false;
        long seenBefore = -1; // held and unwritten of the last look that was logged
        while (true) {
            int held = runtime.heldRemotely();
            int unwritten = runtime.forwardingRecordsUnwritten();
            long seen = ((long) held << 32) | unwritten;
            if (seen != seenBefore) {
                // a line for each change, not each look: an operator (and a test) sees what it waits for
                LOG.info("retiring: looked: {} of its objects held by other runtimes, {} forwarding records not"
                    + " written", held, unwritten);
                seenBefore = seen;
            }
            boolean recordsDone = unwritten == 0;
            if (!recordsDone && System.nanoTime() - recordsDeadline >= 0) {
                if (!gaveUpOnRecords) {
                    LOG.error("retiring: {} forwarding records still not written after {} min (ZooKeeper away?); "
                        + "exits without them once nothing is held", runtime.forwardingRecordsUnwritten(),
                        RECORDS_WAIT_LIMIT.toMinutes());
                    gaveUpOnRecords = true;
                }
                recordsDone = true;
            }
            boolean free = held == 0 && recordsDone;
            if (free && freeBefore) {
                return;
            }
            freeBefore = free;
            Thread.sleep(RETIRE_CHECK_MS);
        }
    }

    /** How often a retired runtime looks whether its objects are still held. */
    private static final long RETIRE_CHECK_MS = 500;

    /**
     * How long a retired runtime waits at most for its forwarding records to be written (ZooKeeper was away
     * when they were due) before it exits without them: its callers that call only after that then fail.
     */
    static final Duration RECORDS_WAIT_LIMIT = Duration.ofMinutes(10);

    /** Closes the runtime and exits the process, once the calls being served (the asking one) have answered. */
    private void exitNow(int status) {
        try {
            runtime.awaitCallsRunningAtMost(0, System.nanoTime() + 2_000_000_000L); // the asking call, answered
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            runtime.close();
        } finally {
            System.exit(status); // shutdown hooks run: the application's own, and logback's flush
        }
    }

    /** The prefixes of the scratch directories that profiles and heap dumps are written into. */
    static final String PROFILE_SCRATCH = "circuit-profile-";
    static final String HEAP_SCRATCH = "circuit-heap-";
    /** How old a scratch directory of an ended process must be to be removed: longer than the longest profile, 600 s. */
    static final Duration SCRATCH_LEFT_AFTER = Duration.ofMinutes(15);

    /**
     * A new scratch directory under the JVM's temporary directory, named {@code prefix}, this process's pid and a
     * random part. Those of processes that have ended (killed while they profiled or dumped their heap: a heap
     * dump is as large as the heap) are removed first, so that what a killed worker left goes with the next one
     * on the machine that asks. Only those older than {@link #SCRATCH_LEFT_AFTER}, longer than the longest
     * profile: a process of another pid namespace that shares this temporary directory may look ended here.
     */
    static Path scratchDirectory(String prefix) throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        java.nio.file.attribute.FileTime before = java.nio.file.attribute.FileTime.from(
            java.time.Instant.now().minus(SCRATCH_LEFT_AFTER));
        try (var left = Files.newDirectoryStream(tmp, prefix + "*")) {
            for (Path d : left) {
                long pid = pidOf(d.getFileName().toString().substring(prefix.length()));
                if (pid > 0 && ProcessHandle.of(pid).isEmpty()
                        && Files.getLastModifiedTime(d, java.nio.file.LinkOption.NOFOLLOW_LINKS).compareTo(before) < 0) {
                    LOG.info("removing {}, left by process {} that has ended", d, pid);
                    deleteTree(d);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot look for scratch directories left in {}: {}", tmp, e.toString());
        }
        return Files.createTempDirectory(prefix + ProcessHandle.current().pid() + "-");
    }

    /** The pid that starts {@code rest} ("4242-8765…"), or -1 (a directory named otherwise: not ours to remove). */
    private static long pidOf(String rest) {
        int dash = rest.indexOf('-');
        if (dash <= 0) {
            return -1;
        }
        try {
            return Long.parseLong(rest.substring(0, dash));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debug("cannot delete {}: {}", dir, e.toString());
        }
    }

    private static String classpathHash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
                Path p = Path.of(entry);
                md.update(p.getFileName() == null ? new byte[0] : p.getFileName().toString().getBytes());
                try {
                    md.update(Long.toString(Files.size(p)).getBytes());
                } catch (IOException | RuntimeException e) {
                    // a directory or a missing entry: the name alone counts
                }
            }
            return HexFormat.of().formatHex(md.digest(), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            return "unknown";
        }
    }
}
