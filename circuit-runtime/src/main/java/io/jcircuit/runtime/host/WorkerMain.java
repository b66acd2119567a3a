package io.jcircuit.runtime.host;

import io.jcircuit.WorkerId;
import io.jcircuit.anchor.NamespaceAnchors;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The main class of a spawned worker JVM. Its one argument is the spawn metadata file that the host
 * wrote into the worker's directory ({@link #META_FILE}). It starts a runtime on the circuit's
 * ZooKeeper, files it under {@code /host/<host>} and the requested anchors, prints
 * {@code WORKER <id> <address>} for the host, and then serves. A worker that is not daemonized exits
 * when its spawner's runtime leaves {@code /worker}, and when its function has finished and no other
 * runtime holds a reference into it. One with an owner ({@link #OWNER}) exits when its owner leaves
 * instead, and not for being idle.
 */
public final class WorkerMain {

    public static final String META_FILE = "spawn.properties";
    public static final String ANNOUNCE = "WORKER ";
    /** What a warm JVM prints when its runtime is up and it waits for a spawn on stdin. */
    public static final String READY = "READY ";
    public static final String STANDBY = "--standby";
    /**
     * The spawn metadata key that names a process (its pid) whose end ends this worker, daemonized or not:
     * the process of a host whose circuit ends with it ({@code circuit run --local}).
     */
    public static final String END_WITH_PROCESS = "endWithProcess";
    /**
     * The key of {@link #META_FILE}, and of the worker's entry under its host, that names the runtime whose
     * end ends this worker when that is not its spawner ({@link io.jcircuit.SpawnOptions#ownedBy}).
     */
    public static final String OWNER = "owner";
    /** The key of {@link #META_FILE} that holds the spawner's address, when the spawner gave it. */
    public static final String SPAWNER_ADDRESS = "spawner.address";
    /**
     * The key of {@link #META_FILE} that holds the fingerprint of the cluster key the host runs with. The
     * worker reads the key file as it starts, which may have been replaced since the host read it; a
     * worker with another key than its host's could link to none of the circuit's runtimes, so it ends at
     * once and says so. A host of an older build does not write it, and nothing is compared.
     */
    public static final String KEY_FINGERPRINT = "key.fingerprint";
    /**
     * Keys of {@link #META_FILE} that start with this carry the spawn's {@link SpawnSpec#metadata}, which
     * the worker adds to every entry it files.
     */
    public static final String METADATA_PREFIX = "meta.";
    /**
     * How many times a warm JVM files, updates and removes a scratch entry before it is ready, four at a
     * time. The filing a spawn waits for then runs compiled code: a warm spawn took 37–44 ms after 200
     * rounds against 57–64 ms without, and no less after 400 or 800 (docs/performance.md). They add
     * about 1 s to a warm JVM's start: 3.2–3.9 s from one warm spawn until the next JVM is ready, against
     * 2.2–3.0 s.
     */
    static final int ZOOKEEPER_WARMUP_ROUNDS = 200;
    /** How often an idle worker looks whether it may exit; it exits after two idle looks in a row. */
    static final long IDLE_CHECK_MS = 500;
    /**
     * System property: how long a worker waits, after it announced itself, for its spawner's function
     * before it ends (default 60 s). The spawner sends it as soon as the host answers; one that never
     * comes means the spawn failed on the way (its host killed, say), and the spawner has no handle to
     * end the worker with, daemonized or not.
     */
    public static final String FUNCTION_WAIT_PROPERTY = "circuit.worker.functionWaitMs";

    /** Runs a task of the hand-over that need not hold it up, the rewrite of the /worker entry, on a virtual thread of its own. */
    private static final Executor ASIDE = task -> Thread.ofVirtual().start(task);

    private WorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean standby = args.length == 2 && args[0].equals(STANDBY);
        if (!standby && args.length != 1) {
            System.err.println("usage: WorkerMain <worker dir>/" + META_FILE + "  |  WorkerMain " + STANDBY + " <prestart file>");
            System.exit(2);
        }
        Properties meta = load(Path.of(standby ? args[1] : args[0]));
        RuntimeConfig built;
        CircuitRuntime started;
        try {
            RuntimeConfig.Builder config = RuntimeConfig.builder().zookeeper(meta.getProperty("zookeeper"))
                .bindHost(meta.getProperty("bind", "127.0.0.1"))
                .insecure(Boolean.parseBoolean(meta.getProperty("insecure", "false")));
            if (meta.getProperty("key") != null) {
                config.clusterKeyFile(Path.of(meta.getProperty("key"))); // read now: it may have changed since the host read it
            }
            if (meta.getProperty("id") != null) {
                config.workerId(WorkerId.parse(meta.getProperty("id")));
            }
            if (standby) {
                // filed as standby from the first, so that no verb over /worker takes it for a worker meanwhile
                config.entryMetadata(Map.of(HostService.STANDBY_KEY, "true"));
            }
            built = config.build();
            requireTheHostsKey(built, meta);
            started = CircuitRuntime.start(built);
        } catch (RuntimeException e) {
            // The host shows the end of this JVM's stderr when it exits before it announces itself: the
            // cause on the last line, not the last frames of a stack trace (a key file that cannot be
            // loaded any more, say).
            e.printStackTrace();
            System.err.println("worker cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        try (CircuitRuntime rt = started) {
            if (standby) {
                // A warm JVM: the runtime is up, its /worker entry filed as standby from the first; warm the
                // codec and call paths a spawn takes, then wait for the host to hand over a spawn.
                warmUp(rt, built);
                System.out.println(line(READY, rt));
                System.out.flush();
                String assigned = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                // none: the host went away before it needed this JVM, or started it only to write
                // the class archive, which the exit below does
                meta = assigned == null ? null : load(Path.of(assigned));
            }
            if (meta != null) {
                serve(rt, meta, standby);
            }
        }
        System.exit(0);
    }

    /** Refuses a key file that holds another key than the one the host runs with ({@link #KEY_FINGERPRINT}). */
    private static void requireTheHostsKey(RuntimeConfig config, Properties meta) {
        String hosts = meta.getProperty(KEY_FINGERPRINT);
        if (hosts == null || config.clusterKey() == null || hosts.equals(config.clusterKey().fingerprint())) {
            return;
        }
        throw new IllegalStateException("cluster key file " + meta.getProperty("key") + " holds key "
            + config.clusterKey().fingerprint() + ", not " + hosts + ", the key its host" + (meta.getProperty("host") == null ? "" : " " + meta.getProperty("host"))
            + " started with: it was replaced since, and a worker with another key than its host's can reach none of"
            + " the circuit's runtimes. To change the key, restart the host and every runtime of the circuit with the"
            + " new one; otherwise put the host's key file back");
    }

    /**
     * Runs {@code go} and reference calls into this runtime over a real loopback link, from a
     * throwaway second runtime in this JVM, so that a spawn finds the socket, codec and call paths
     * loaded and compiled (measured: the first call into an unwarmed worker took 0.3 to 0.7 s); then
     * the ZooKeeper calls of filing ({@link #ZOOKEEPER_WARMUP_ROUNDS}).
     *
     * <p>Around the calls it rehearses the steps of {@link #serve} that would otherwise run for the first
     * time in the spawn, with the probe standing in for the spawner: the dial out to it (the calls only
     * come in), the watches on its session and on its {@code /worker} entry (it has none: that watch ends
     * at once), the read of its activity, and the rewrite of this JVM's own entry, with what it holds
     * already; {@link NamespaceAnchors#warmUp} rehearses a filing. Measured: a warm spawn
     * 6–9 ms shorter, its worker's CPU from 29–36 ms down to 22–24 (docs/performance.md). The host's JVM that writes the
     * class archive runs this too, so the classes of these steps are in the archive.
     */
    private static void warmUp(CircuitRuntime rt, RuntimeConfig config) {
        NamespaceAnchors anchors = (NamespaceAnchors) rt.anchors();
        rt.listenOwn("circuit.warmup", Runnable.class, () -> { });
        try (CircuitRuntime probe = CircuitRuntime.start(RuntimeConfig.builder().clusterKey(config.clusterKey()).build())) {
            rt.connectAhead(probe.id(), probe.address());
            OwnerEnd rehearsed = new OwnerEnd();
            io.jcircuit.Subscription session = rt.whenPeerEnds(probe.id(), rehearsed);
            io.jcircuit.Worker w = probe.worker(rt.address());
            Runnable r = w.dial("circuit.warmup", Runnable.class);
            for (int i = 0; i < 200; i++) {
                Integer one = w.go(() -> 1);
                r.run();
                if (one == null) {
                    throw new IllegalStateException("warm-up go returned null");
                }
            }
            session.close();
            rt.activity();
            try {
                anchors.setBaseMetadataAsync(config.entryMetadata(), ASIDE).join();
                anchors.whenGone(probe.id(), rehearsed).close();
            } catch (RuntimeException away) {
                // best effort, as the filing rounds below: ZooKeeper away now need not be away at the spawn
                System.err.println("warm-up: the rehearsal of the filings failed: " + away);
            }
        } finally {
            rt.unlisten("circuit.warmup");
        }
        anchors.warmUp(ZOOKEEPER_WARMUP_ROUNDS, 4);
    }

    /**
     * What ends a worker's {@link #serve}: the session with its owner ending ({@link CircuitRuntime#whenPeerEnds}),
     * or its owner leaving {@code /worker} ({@link NamespaceAnchors#whenGone}).
     */
    private static final class OwnerEnd implements Consumer<String>, Runnable {
        final CountDownLatch exit = new CountDownLatch(1);
        /** Why the session with the owner ended; null while it lasts. */
        final AtomicReference<String> sessionEnded = new AtomicReference<>();

        @Override
        public void accept(String reason) {
            sessionEnded.set(reason);
            exit.countDown();
        }

        @Override
        public void run() {
            exit.countDown();
        }
    }

    /** What this JVM prints for the host: {@code prefix}, its runtime's id and address (one call site for both lines). */
    private static String line(String prefix, CircuitRuntime rt) {
        return prefix + rt.id() + " " + rt.address();
    }

    private static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        return p;
    }

    /**
     * Files the worker as {@code meta} says, announces it, and serves until it may exit.
     *
     * @param wasStandby a warm JVM's: its {@code /worker} entry's standby mark goes with the base metadata
     */
    private static void serve(CircuitRuntime rt, Properties meta, boolean wasStandby) throws Exception {
        String host = meta.getProperty("host");
        WorkerId spawner = WorkerId.parse(meta.getProperty("spawner"));
        boolean daemon = Boolean.parseBoolean(meta.getProperty("daemonize", "false"));
        String spawnerAt = meta.getProperty(SPAWNER_ADDRESS);
        String ownedBy = daemon ? null : meta.getProperty(OWNER);
        // the runtime whose end ends this worker: its spawner, or the owner it was spawned for
        WorkerId owner = ownedBy == null ? spawner : WorkerId.parse(ownedBy);
        String ownerRole = ownedBy == null ? "spawner" : "owner";
        OwnerEnd ownerEnd = new OwnerEnd();
        if (!daemon) {
            // Seen without ZooKeeper: a spawner whose ZooKeeper is gone too (its test JVM killed along with
            // the embedded server, say) would otherwise leave this worker running for ever.
            rt.whenPeerEnds(owner, ownerEnd);
        }
        String endWith = meta.getProperty(END_WITH_PROCESS);
        if (endWith != null) {
            Runnable end = () -> {
                System.err.println("worker " + rt.id() + ": the process " + endWith + " its circuit lives in has ended; exiting");
                System.exit(0);
            };
            ProcessHandle.of(Long.parseLong(endWith)).ifPresentOrElse(h -> h.onExit().thenRun(end), end);
        }
        if (spawnerAt != null) {
            // the spawner calls this worker as soon as it is announced: the link is up by then
            rt.connectAhead(spawner, io.jcircuit.Address.parse(spawnerAt));
        }
        Map<String, String> base = new java.util.TreeMap<>();
        for (String k : meta.stringPropertyNames()) {
            if (k.startsWith(METADATA_PREFIX)) {
                base.put(k.substring(METADATA_PREFIX.length()), meta.getProperty(k));
            }
        }
        NamespaceAnchors anchors = (NamespaceAnchors) rt.anchors();
        // The two ZooKeeper writes a spawn waits for go out together: the base metadata (e.g. code=app:2,
        // on every entry, /worker's too) and the entry under the host. The base is set before either
        // write, so a warm JVM's standby mark is off the entry under the host too, whichever goes first.
        CompletableFuture<Void> refiled = base.isEmpty() && !wasStandby ? CompletableFuture.completedFuture(null)
            : anchors.setBaseMetadataAsync(base, ASIDE);
        Map<String, String> underHost = new java.util.TreeMap<>(base);
        underHost.putAll(Map.of(HostService.ROLE_KEY, HostService.ROLE_WORKER, "spawner", spawner.toString(),
            "daemon", Boolean.toString(daemon)));
        if (ownedBy != null) {
            underHost.put(OWNER, ownedBy);
        }
        anchors.fileUnderHost(host, underHost);
        try {
            refiled.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        for (String a : meta.getProperty("anchors", "").split("\n")) {
            if (!a.isBlank()) {
                rt.anchors().file(a.strip());
            }
        }
        System.out.println(line(ANNOUNCE, rt));
        System.out.flush();
        long announced = System.nanoTime();
        // a warm JVM ran gos of its own while it warmed up: only those after its announcement count
        long gosBefore = rt.activity().gosDone();
        long functionWaitNanos = TimeUnit.MILLISECONDS.toNanos(Long.getLong(FUNCTION_WAIT_PROPERTY, 60_000L));
        if (!daemon) {
            // After the announcement, which the spawn waits for: watching the spawner takes ZooKeeper
            // round trips, and a spawner gone before the watch starts is still seen, as whenGone
            // looks once it watches.
            anchors.whenGone(owner, ownerEnd);
        }
        // DESIGN §1: live while the function runs or a reference into this worker is held elsewhere.
        // The spawner leaving ends the worker whatever holds it: workers of one job hold references into
        // each other (the wordcount's nodes each hold the others' channels), and such a cycle would
        // otherwise keep them all alive for ever once their spawner is gone. Gone means unfiled and no
        // longer linked: an expired ZooKeeper session alone (ZooKeeper away for longer than the session
        // timeout) is not the end of a spawner that still answers. The session with the spawner ending by
        // the spawner's doing (goodbye, stopped, out of reach past the outage limit) is its end too, seen
        // with no ZooKeeper at all.
        boolean idleBefore = false;
        while (true) {
            boolean unfiled = ownerEnd.exit.await(IDLE_CHECK_MS, TimeUnit.MILLISECONDS);
            if (ownerEnd.sessionEnded.get() != null) {
                System.err.println("worker " + rt.id() + ": the session with " + ownerRole + " " + owner + " ended ("
                    + ownerEnd.sessionEnded.get() + "); exiting");
                return;
            }
            if (unfiled && rt.links().stream().noneMatch(l -> l.peer().equals(owner) && l.isConnected())) {
                System.err.println("worker " + rt.id() + ": " + ownerRole + " " + owner + " is gone; exiting");
                return;
            }
            io.jcircuit.runtime.Activity activity = rt.activity();
            long gos = activity.gosDone() - gosBefore;
            if (gos == 0 && activity.running() == 0 && System.nanoTime() - announced > functionWaitNanos) {
                System.err.println("worker " + rt.id() + ": its function did not come within "
                    + TimeUnit.NANOSECONDS.toMillis(functionWaitNanos) + " ms of its start (the spawn failed on the way,"
                    + " its host gone, say, and the spawner has no handle to it); exiting");
                return;
            }
            // a worker with an owner serves until its owner is gone: the swap that spawned it took services over
            boolean idle = !daemon && ownedBy == null && gos > 0 && activity.running() == 0 && !activity.heldRemotely();
            if (idle && idleBefore) {
                System.err.println("worker " + rt.id() + ": its function is done and nobody holds a reference"
                    + " into it; exiting");
                return;
            }
            idleBefore = idle;
            if (unfiled) {
                Thread.sleep(IDLE_CHECK_MS); // the latch no longer waits
            }
        }
    }
}
