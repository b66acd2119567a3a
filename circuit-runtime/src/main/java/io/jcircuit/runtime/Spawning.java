package io.jcircuit.runtime;

import io.jcircuit.CircuitException;
import io.jcircuit.Entry;
import io.jcircuit.Fn;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.Worker;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.Paths;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.Deployment;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import io.jcircuit.runtime.host.SpawnSpec;
import io.jcircuit.runtime.host.SpawnedWorker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** The spawner's side of {@link io.jcircuit.Circuit#spawn}, and the host-backed kill and onExit of a worker. */
final class Spawning {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Spawning.class);

    private final CircuitRuntime rt;
    private final ClasspathJars jars;
    private volatile JarSource exported;
    /**
     * The service of each host named in a spawn or exec so far, with the daemon's entry. Looking a host
     * up in ZooKeeper took 4 to 10 ms of a 45 ms warm spawn, and dialing its service another 1 to 3 ms.
     * Both are used again only while the link to that daemon is connected; a host that stopped,
     * restarted or is unreachable is looked up anew.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, KnownHost> knownHosts = new java.util.concurrent.ConcurrentHashMap<>();

    private record KnownHost(Entry entry, HostService service) {
    }

    /** Where spawns on ANY_HOST go; it counts this runtime's spawns that the hosts' entries do not show yet. */
    private final Placements placements = new Placements();

    Spawning(CircuitRuntime rt) {
        this.rt = rt;
        this.jars = new ClasspathJars(ClasspathJars.defaultPackDir());
    }

    <R> Spawned<R> spawn(String host, List<String> anchors, Fn<R> fn, SpawnOptions options) {
        Objects.requireNonNull(fn, "fn");
        Objects.requireNonNull(options, "options");
        for (String a : anchors) {
            Paths.anchorDir(a, true);
        }
        Code code = code(options);
        SpawnSpec spec = new SpawnSpec(rt.id(), code.classpath(), source(), List.copyOf(anchors), options.jvmArgs(),
            options.maxHeapMb(), options.env(), options.daemonize(), code.metadata(), rt.address(), options.owner());
        OnHost<SpawnedWorker> on = onHost(host, true, hs -> hs.spawn(spec));
        HostService hs = on.service();
        SpawnedWorker sw = on.result();
        Worker w = new RemoteWorker(rt, sw.id(), sw.address());
        try {
            return new Spawned<>(w.go(fn), w);
        } catch (Throwable e) {
            // The function failed: the worker has nothing left to do, daemonized or not. The caller gets
            // no handle to it, so one left running would be a JVM nobody knows about (a failed swap left
            // its replacement this way). A checked exception of the function arrives as it was thrown.
            try {
                hs.kill(sw.id());
            } catch (RuntimeException killFailed) {
                e.addSuppressed(killFailed);
            }
            throw e;
        }
    }

    /** A worker's classpath, and the metadata that names its code version. */
    private record Code(List<JarRef> classpath, Map<String, String> metadata) {
    }

    /**
     * What the worker runs. Without a deployment, the spawner's classpath. With one, the deployment's
     * jar first, then the JCircuit runtime's jars: those named by the system property
     * {@value Deployment#RUNTIME_CLASSPATH_PROPERTY} when set ({@code circuit run} sets it to JCircuit's
     * own classpath, without the application jar), else the spawner's whole classpath. In the latter
     * case (tests, an application that embeds JCircuit) the spawner's own classes stay on the worker's
     * classpath too, but behind the deployment's jar, so that every class the deployment holds comes
     * from it.
     */
    private Code code(SpawnOptions options) {
        if (options.deployment() == null) {
            return new Code(jars.of(System.getProperty("java.class.path")),
                Map.of(Deployment.CODE_KEY, Deployment.SPAWNER_CLASSPATH));
        }
        Deployment d = rt.deployments().resolve(options.deployment());
        List<JarRef> cp = new ArrayList<>();
        cp.add(d.jar());
        String runtime = System.getProperty(Deployment.RUNTIME_CLASSPATH_PROPERTY);
        for (JarRef r : jars.of(runtime != null && !runtime.isBlank() ? runtime : System.getProperty("java.class.path"))) {
            if (!r.sha256().equals(d.sha256())) {
                cp.add(r);
            }
        }
        return new Code(List.copyOf(cp), Map.of(Deployment.CODE_KEY, d.label(), Deployment.CODE_HASH_KEY, d.shortHash()));
    }

    /** Runs a process on {@code host} through its host daemon. */
    io.jcircuit.Proc exec(String host, io.jcircuit.ExecSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (spec.anchor() != null) {
            Paths.anchorDir(spec.anchor(), true);
        }
        return onHost(host, false, hs -> hs.exec(spec)).result();
    }

    private JarSource source() {
        JarSource s = exported;
        if (s == null) {
            synchronized (this) {
                if (exported == null) {
                    exported = rt.ref(JarSource.class, jars);
                }
                s = exported;
            }
        }
        return s;
    }

    /** What a host was asked, and the service of the host that answered. */
    private record OnHost<T>(HostService service, T result) {
    }

    /**
     * Asks {@code request} of the host {@code name}, or of the least loaded host for
     * {@link io.jcircuit.Circuit#ANY_HOST}. {@code spawn}: the request starts a worker, which counts to
     * the host's load. For ANY_HOST, a host that cannot be reached (a host killed keeps its entry until
     * its ZooKeeper session expires) is passed over for the next, but only when the request certainly
     * did not reach it: were it sent, a retry elsewhere could start a second worker.
     *
     * @throws WorkerDiedException   naming the host, or for ANY_HOST every host tried, when none could be reached
     * @throws IllegalStateException when no such host runs
     */
    private <T> OnHost<T> onHost(String name, boolean spawn, java.util.function.Function<HostService, T> request) {
        if (isNamed(name)) {
            HostService hs = hostService(name);
            return new OnHost<>(hs, request.apply(hs));
        }
        long listedAt = System.nanoTime();
        List<Entry> listing = rt.anchors().listAll("/host").entries();
        List<Entry> candidates = new ArrayList<>(withMyKey(hostsOf(listing)));
        List<WorkerDiedException> unreachable = new ArrayList<>();
        while (true) {
            Placements.Placement p = placements.take(candidates, listing, listedAt, spawn);
            if (p == null) {
                throw noneReached(unreachable);
            }
            try (p) {
                Entry e = p.host();
                HostService hs;
                try {
                    hs = dial(e);
                } catch (WorkerDiedException down) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw down;
                    }
                    unreachable.add(down); // nothing was asked of it but the lookup of its service
                    candidates.remove(e);
                    continue;
                }
                T result;
                try {
                    result = request.apply(hs);
                } catch (WorkerDiedException died) {
                    if (died.outcomeUnknown() || !e.worker().equals(died.worker()) || Thread.currentThread().isInterrupted()) {
                        throw died; // it may have been asked
                    }
                    // the link went down before the request left this runtime
                    unreachable.add(hostUnreachable(e, died));
                    candidates.remove(e);
                    continue;
                }
                if (spawn) {
                    p.started();
                }
                return new OnHost<>(hs, result);
            }
        }
    }

    /** A spawn on ANY_HOST found no host it could reach: says which it tried, and why each failed. */
    private static WorkerDiedException noneReached(List<WorkerDiedException> unreachable) {
        WorkerDiedException last = unreachable.getLast();
        WorkerDiedException e = new WorkerDiedException(last.worker(), false, "no host could be reached (tried "
            + unreachable.size() + "): " + String.join("; ", unreachable.stream().map(Throwable::getMessage).toList()),
            last.getCause());
        unreachable.subList(0, unreachable.size() - 1).forEach(e::addSuppressed);
        return e;
    }

    /** The service of the host {@code name}, from the last spawn or exec on it while its link is up. */
    private HostService hostService(String name) {
        KnownHost known = knownHosts.get(name);
        if (known != null && rt.peers().isConnected(known.entry().worker())) {
            return known.service();
        }
        Entry e = namedHost(name);
        HostService hs = dial(e);
        knownHosts.put(name, new KnownHost(e, hs));
        return hs;
    }

    /**
     * Looks up the host service of host entry {@code e}.
     *
     * @throws WorkerDiedException naming the host when it cannot be reached; nothing was asked of it
     */
    private HostService dial(Entry e) {
        try {
            return rt.anchors().worker(e).dial(HostService.SERVICE, HostService.class);
        } catch (WorkerDiedException down) {
            throw hostUnreachable(e, down);
        }
    }

    private static WorkerDiedException hostUnreachable(Entry host, WorkerDiedException why) {
        return new WorkerDiedException(why.worker(), why.outcomeUnknown(), "cannot reach host "
            + host.dir().substring("/host/".length()) + " (" + host.worker() + " at " + host.address() + "): "
            + (why.getCause() != null ? why.getCause().getMessage() : why.getMessage()), why.getCause() != null ? why.getCause() : why);
    }

    /** The host entry of the host {@code name}. */
    private Entry namedHost(String name) {
        if (!name.contains("/")) {
            // Read its own directory only, not every worker of every host (a few ms of a warm spawn on a
            // small circuit, and more the more workers run).
            java.util.Optional<Entry> named = hostsIn("/host/" + name, false).stream().findFirst();
            if (named.isPresent()) {
                return named.get();
            }
        }
        List<Entry> hosts = hostsIn("/host", true);
        if (hosts.isEmpty()) {
            throw new IllegalStateException("no host runs in this circuit: start one with 'circuit start'");
        }
        return hosts.stream().filter(e -> e.dir().equals("/host/" + name)).findFirst()
            .orElseThrow(() -> new IllegalStateException("no host named '" + name + "'; running hosts: "
                + hosts.stream().map(e -> e.dir().substring("/host/".length())).toList()));
    }

    /**
     * The hosts a spawn on ANY_HOST may use: those with this runtime's cluster key, as only they can be
     * linked to (a host of an older build files no key, and is tried).
     *
     * @throws IllegalStateException when there is none
     */
    private List<Entry> withMyKey(List<Entry> hosts) {
        if (hosts.isEmpty()) {
            throw new IllegalStateException("no host runs in this circuit: start one with 'circuit start'");
        }
        String mine = HostService.keyOf(rt.clusterKeyFingerprint());
        List<Entry> reachable = hosts.stream()
            .filter(e -> mine.equals(e.metadata().getOrDefault(HostService.KEY_KEY, mine))).toList();
        if (reachable.isEmpty()) {
            throw new IllegalStateException("no host runs with this runtime's cluster key (" + mine + "); the hosts' keys: "
                + hosts.stream().map(e -> e.dir().substring("/host/".length()) + "=" + e.metadata().get(HostService.KEY_KEY)).toList());
        }
        return reachable;
    }

    /** False for {@link io.jcircuit.Circuit#ANY_HOST} (or null): any host will do. */
    private static boolean isNamed(String host) {
        return host != null && !host.equals(io.jcircuit.Circuit.ANY_HOST);
    }

    /** The host entries in {@code dir}; none when it is not a valid directory name. */
    private List<Entry> hostsIn(String dir, boolean recursive) {
        List<Entry> entries;
        try {
            entries = recursive ? rt.anchors().listAll(dir).entries() : rt.anchors().list(dir).entries();
        } catch (IllegalArgumentException badName) {
            return List.of();
        }
        return hostsOf(entries);
    }

    private static List<Entry> hostsOf(List<Entry> entries) {
        return entries.stream().filter(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY))).toList();
    }

    /**
     * Whether a host runs {@code worker}'s process now: asked of every host ({@link HostService#running}),
     * since a worker whose ZooKeeper session expired is no longer filed under its host either. False when
     * no host answers that it does (a runtime no host started, or one whose host is gone). Returns as soon
     * as one host says it runs it; else once every host has answered or {@link #HOSTS_ASK_LIMIT} has passed.
     */
    boolean anyHostRuns(WorkerId worker) {
        Asked asked = askHosts(rt.anchors(), java.util.Set.of(worker));
        java.util.concurrent.CompletableFuture<Boolean> runs = new java.util.concurrent.CompletableFuture<>();
        for (var answer : asked.answers()) {
            answer.thenAccept(ids -> {
                if (ids.contains(worker)) {
                    runs.complete(true);
                }
            });
        }
        java.util.concurrent.CompletableFuture.allOf(asked.answers().toArray(java.util.concurrent.CompletableFuture[]::new))
            .whenComplete((all, failed) -> runs.complete(asked.answers().stream()
                .anyMatch(a -> !a.isCompletedExceptionally() && a.join().contains(worker))));
        try {
            return runs.get(Math.max(0, asked.deadline() - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException noneSaidSo) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Of {@code workers}, those that a host may run now: one answers that it does, or one that is filed
     * cannot be asked (it may run any of them). A worker not returned is run by no host, as every one
     * answered: what taking the worker for ended, for good, needs ({@link ForwardChains}). Each host is asked
     * once, for all of them ({@link #askHosts}). Throws when ZooKeeper is away.
     *
     * @param anchors the runtime's anchors, also while it closes (it deletes the records that lead to it
     *                then); a host that a closing runtime cannot ask any more may run the workers
     */
    ForwardingRecords.HostsSaid hostsMayRun(io.jcircuit.Anchors anchors, java.util.Set<WorkerId> workers) {
        if (workers.isEmpty()) {
            return new ForwardingRecords.HostsSaid(java.util.Set.of(), true);
        }
        Asked asked = askHosts(anchors, workers);
        java.util.Set<WorkerId> mayRun = new java.util.HashSet<>();
        for (var answer : asked.answers()) {
            java.util.Set<WorkerId> ids;
            try {
                ids = answer.get(Math.max(0, asked.deadline() - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException cannotSay) {
                return new ForwardingRecords.HostsSaid(java.util.Set.copyOf(workers), false); // it may run any of them
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new ForwardingRecords.HostsSaid(java.util.Set.copyOf(workers), false);
            }
            workers.stream().filter(ids::contains).forEach(mayRun::add);
        }
        return new ForwardingRecords.HostsSaid(mayRun, true);
    }

    /**
     * How long the hosts are asked at most, all at once, which workers they run: a host's dial and its
     * answer together (what one host took at most when they were asked one by one).
     */
    static final java.time.Duration HOSTS_ASK_LIMIT = java.time.Duration.ofSeconds(10);

    /** {@link #HOSTS_ASK_LIMIT}, longer or shorter in tests. */
    private volatile java.time.Duration hostsAskLimit = HOSTS_ASK_LIMIT;

    /** Sets how long the hosts are asked at most which workers they run; for tests. */
    void hostsAskLimit(java.time.Duration limit) {
        hostsAskLimit = Objects.requireNonNull(limit, "limit");
    }

    /**
     * The answers of the hosts to which of the workers asked about they run, each by {@code deadline} (a
     * {@link System#nanoTime}) or never.
     */
    private record Asked(List<java.util.concurrent.CompletableFuture<java.util.Set<WorkerId>>> answers, long deadline) {
    }

    /**
     * Asks every host filed in {@code anchors} which of {@code workers} it runs ({@link HostService#running}:
     * not only those it lists, also those of its last run that have not filed themselves again yet), all at
     * once, each on a virtual thread of its own, within {@link #HOSTS_ASK_LIMIT} in all: one slow or gone host
     * costs that limit once, not once each. An answer that fails is a host that cannot say (it may run any
     * worker); one not there by the deadline too. A host of a build without {@code running} fails at once, and
     * is logged once ({@link #olderHost}). Throws when ZooKeeper is away.
     */
    private Asked askHosts(io.jcircuit.Anchors anchors, java.util.Set<WorkerId> workers) {
        List<Entry> hosts = hostsOf(anchors.listAll("/host").entries());
        long deadline = System.nanoTime() + hostsAskLimit.toNanos();
        java.util.Set<WorkerId> question = new java.util.HashSet<>(workers); // one snapshot, sent to every host
        List<java.util.concurrent.CompletableFuture<java.util.Set<WorkerId>>> answers = new ArrayList<>();
        for (Entry h : hosts) {
            java.util.concurrent.CompletableFuture<java.util.Set<WorkerId>> answer = new java.util.concurrent.CompletableFuture<>();
            Thread.ofVirtual().name("circuit-ask-host-" + h.worker()).start(() -> {
                try {
                    answer.complete(io.jcircuit.Deadline.until(deadline, () -> java.util.Set.copyOf(anchors.worker(h)
                        .dial(HostService.SERVICE, HostService.class).running(question))));
                } catch (RuntimeException unreachable) {
                    olderHost(h, unreachable);
                    answer.completeExceptionally(unreachable); // that host cannot say; the others may
                }
            });
            answers.add(answer);
        }
        return new Asked(List.copyOf(answers), deadline);
    }

    /** The hosts (their runtimes) that were found to lack {@link HostService#running}, each logged once. */
    private final java.util.Set<WorkerId> olderHosts = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Logs, once per host, that host {@code h} failed with {@code failure} as one of a build without {@link
     * HostService#running} fails (the hosts of a circuit run one build). It counts as a host that cannot say
     * which workers it runs, as one that cannot be reached: the forwarding records of hot swaps that lead to
     * workers that ended unseen stay while it runs.
     */
    private void olderHost(Entry h, RuntimeException failure) {
        String message = failure.getMessage();
        if (message != null && message.contains("has no method running(") && olderHosts.add(h.worker())) {
            LOG.warn("host {} ({}) cannot say which workers it runs, as it is of an older build ({}): it counts as a host"
                + " that cannot be asked, and the forwarding records of hot swaps that lead to workers that ended"
                + " unseen stay while it runs; run one build on every host of a circuit", HostService.daemonOf(h),
                h.worker(), message);
        }
    }

    /** How long {@link #kill} waits for a worker that is in {@code /worker} but under no host to leave. */
    private static final long EXITING_GRACE_MS = 2_000;

    /** Asks the host that started {@code worker} to kill it; returns at once if it is gone or on its way out. */
    void kill(WorkerId worker) {
        List<Entry> all = rt.anchors().listAll("/host").entries();
        Entry mine = all.stream().filter(e -> e.worker().equals(worker)
            && HostService.ROLE_WORKER.equals(e.metadata().get(HostService.ROLE_KEY))).findFirst().orElse(null);
        if (mine == null) {
            // Its entries may be gone while it runs: stopped or paused past its ZooKeeper session, it files
            // itself again only once it runs again. The host that started it still knows it.
            for (Entry h : all) {
                if (HostService.ROLE_HOST.equals(h.metadata().get(HostService.ROLE_KEY))) {
                    try {
                        if (rt.anchors().worker(h).dial(HostService.SERVICE, HostService.class).kill(worker)) {
                            return;
                        }
                    } catch (RuntimeException unreachable) {
                        LOG.debug("host {} could not be asked to kill {}: {}", h.dir(), worker, unreachable.toString());
                    }
                }
            }
            if (rt.anchors().list("/worker").entries().stream().noneMatch(e -> e.worker().equals(worker))) {
                return; // already gone
            }
            // A worker on its way out (its function done, or killed) leaves its host's directory a moment
            // before it leaves /worker: give it that moment before calling it a runtime no host started.
            java.util.concurrent.CountDownLatch gone = new java.util.concurrent.CountDownLatch(1);
            onExit(worker, gone::countDown);
            try {
                if (gone.await(EXITING_GRACE_MS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("worker " + worker
                + " was not started by a running host, so no host can kill it; close its runtime instead");
        }
        Entry host = all.stream().filter(e -> e.dir().equals(mine.dir())
            && HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY))).findFirst()
            .orElseThrow(() -> new CircuitException("the host of worker " + worker + " (" + mine.dir() + ") is gone"));
        rt.anchors().worker(host).dial(HostService.SERVICE, HostService.class).kill(worker);
    }

    /** Runs {@code action} once {@code worker} has left {@code /worker}. */
    void onExit(WorkerId worker, Runnable action) {
        ((io.jcircuit.anchor.NamespaceAnchors) rt.anchors()).whenGone(worker, () -> confirmGone(worker, action));
    }

    /** How often {@link #confirmGone} looks again. */
    private static final long CONFIRM_EVERY_MS = 500;

    /**
     * The worker's {@code /worker} entry went: runs {@code action} once it is really gone. An entry also
     * goes when only the worker's ZooKeeper session ended (ZooKeeper away, or the worker paused past the
     * session timeout) while its process lives, and then it files itself again. So: watched anew when it
     * is filed again; gone when it is neither linked to this runtime nor run by a host, or when it stays
     * out of reach past the outage limit, as the link layer declares a peer dead.
     */
    private void confirmGone(WorkerId worker, Runnable action) {
        Thread.ofVirtual().name("circuit-exit-of-" + worker).start(() -> {
            long until = System.nanoTime() + rt.config().link().outageLimitMs() * 1_000_000L;
            while (!rt.isClosed()) {
                boolean filed;
                try {
                    filed = rt.anchors().list("/worker").entries().stream().anyMatch(e -> e.worker().equals(worker));
                } catch (RuntimeException zooKeeperAway) {
                    filed = false;
                }
                if (filed) {
                    onExit(worker, action); // it came back: watch it again
                    return;
                }
                boolean alive = rt.peers().isConnected(worker) || anyHostRuns(worker);
                if (!alive || System.nanoTime() - until >= 0) {
                    action.run();
                    return;
                }
                try {
                    // a period, not a wait for one event: whether a host still runs it is learnt by asking
                    Thread.sleep(CONFIRM_EVERY_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

}
