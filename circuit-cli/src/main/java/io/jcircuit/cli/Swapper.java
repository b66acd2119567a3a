package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.runtime.ops.Ops;
import io.jcircuit.runtime.ops.OpsInfo;
import io.jcircuit.runtime.ops.Refile;
import io.jcircuit.runtime.ops.SwapIn;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * One worker's hot swap, as {@code circuit swap} and {@code circuit demo swap} run it:
 * <ol>
 *   <li>a replacement is spawned beside the old worker, on its host, with the new code, and runs
 *       {@link SwapIn} for each service: freeze and drain, hand the state over, serve, file the same
 *       anchors, forward the old worker's callers (a failure there rolls that service back);</li>
 *   <li>the old worker withdraws its anchors and application services ({@link Ops#drain});</li>
 *   <li>it lingers, so that callers still holding references to it follow the move on their next call;</li>
 *   <li>it retires ({@link Ops#retire}): it exits once no other runtime holds a reference to one of its
 *       objects other than its services (objects a service handed out live on there, in the old code,
 *       until their holders drop them); at once when none is held.</li>
 * </ol>
 *
 * @param spawner   the runtime that spawns replacements
 * @param hostEntries the entries under a directory and its subdirectories: those under {@code /host}, to find the
 *                  old worker's host, and those under its anchors, for the metadata it filed itself with
 * @param code      how to spawn the replacement: the new code (a deployment). Its lifetime is the old
 *                  worker's ({@link #lifetimeOf}): daemonized when that was, else ending with the old one's
 *                  spawner (or owner), not with the runtime that swaps
 * @param drain     how long the old worker may take to finish its calls
 * @param linger    how long the old worker redirects callers before it retires
 */
record Swapper(Circuit spawner, Function<String, List<Entry>> hostEntries, SpawnOptions code, Duration drain,
               Duration linger) {

    private static final Logger LOG = LoggerFactory.getLogger(Swapper.class);
    /** How long the replacement's JVM may take to start and take the service over, besides the drain. */
    static final Duration SPAWN_TIMEOUT = Duration.ofSeconds(60);

    /**
     * What one swap did; {@code oldHeld} objects of the old worker were still held when it retired;
     * {@code startedEmpty} names the services whose old object handed over no state (not
     * {@link io.jcircuit.Swappable}, or a null snapshot), so that the new one started as constructed.
     */
    record Swapped(String oldWorker, String newWorker, String host, List<String> services, List<String> anchors,
                   long millis, long takeOverMillis, long drainMillis, int oldHeld, List<String> startedEmpty) {
    }

    Swapped swap(Entry old, String onlyService) throws InterruptedException {
        long start = System.nanoTime();
        Ops oldOps = Deadline.within(Duration.ofSeconds(10), () -> spawner.worker(old.address()).dial(Ops.SERVICE, Ops.class));
        OpsInfo info = Deadline.within(Duration.ofSeconds(10), oldOps::info);
        List<OpsInfo.ServiceType> services = info.serviceTypes().stream()
            .filter(t -> onlyService == null || t.name().equals(onlyService)).toList();
        if (services.isEmpty()) {
            throw new IllegalArgumentException("worker " + old.worker() + " serves "
                + (onlyService == null ? "no service" : "no service '" + onlyService + "'") + " to swap; its services: "
                + info.services());
        }
        if (services.size() < info.serviceTypes().size()) {
            // the old worker is drained and retired at the end: the services left out would go with it
            List<String> others = info.serviceTypes().stream().map(OpsInfo.ServiceType::name)
                .filter(n -> !n.equals(onlyService)).toList();
            throw new IllegalArgumentException("worker " + old.worker() + " also serves " + others + ", which a swap of '"
                + onlyService + "' alone would stop: the old worker is drained and retired once its services moved."
                + " Swap them all (without --service), or serve them from workers of their own");
        }
        Entry underHost = hostEntryOf(old);
        String host = underHost.dir().substring(underHost.dir().lastIndexOf('/') + 1);
        SpawnOptions options = lifetimeOf(underHost, code);
        List<String> anchors = info.anchors().stream()
            .filter(a -> !a.equals("/worker") && !a.startsWith(Hosts.DIR + "/")).toList();
        java.util.Map<String, java.util.Map<String, String>> metadata = metadataOf(old, anchors);
        long drainMs = drain.toMillis();
        String oldAddress = old.address().toString();
        OpsInfo.ServiceType first = services.getFirst();
        drivenFromHere(oldOps, old);
        long t0 = System.nanoTime();
        Spawned<SwapIn.Taken> replacement;
        try {
            // Not the client's default deadline (10 s for the CLI's commands): a cold JVM on a loaded host,
            // fetching the deployment's jars, took longer (a CI run), and the take-over drains for up to drainMs.
            replacement = Deadline.within(SPAWN_TIMEOUT.plus(drain), () -> spawner.spawn(host, List.of(),
                new SwapIn(oldAddress, first.name(), first.iface(), first.impl(), anchors, drainMs, first.methods(), metadata), options));
        } catch (WorkerDiedException died) {
            // The replacement died, or its link broke, before it answered: perhaps after the old worker had
            // forwarded the service to it. A failed spawn kills its worker; once it is killed (nothing was
            // suppressed: the kill went through), the old worker takes the service back.
            if (died.getSuppressed().length > 0) {
                throw died;
            }
            throw new IllegalStateException("the replacement " + died.worker() + " died during the take-over ("
                + died.getMessage() + "); " + takeBack(oldOps, services.subList(0, 1), old), died);
        }
        List<String> startedEmpty = new java.util.ArrayList<>();
        if (!replacement.result().stateHandedOver()) {
            startedEmpty.add(first.name());
        }
        for (int i = 1; i < services.size(); i++) {
            OpsInfo.ServiceType t = services.get(i);
            SwapIn.Taken taken;
            try {
                // each take-over drains for up to drainMs too: the same room as the first one's
                taken = Deadline.within(drain.plusSeconds(10), () -> replacement.worker().go(
                    new SwapIn(oldAddress, t.name(), t.iface(), t.impl(), List.of(), drainMs, t.methods(), java.util.Map.of())));
            } catch (RuntimeException failed) {
                // the ones before it moved: back to the old worker, all of them, and the replacement goes
                String back = takeBack(oldOps, services.subList(0, i), old);
                try {
                    replacement.worker().kill();
                } catch (RuntimeException notKilled) {
                    failed.addSuppressed(notKilled);
                }
                throw new IllegalStateException("service '" + t.name() + "' could not be taken over: "
                    + WorkerOps.why(failed) + "; " + back + ", and its replacement " + replacement.worker().id()
                    + " was ended", failed);
            }
            if (!taken.stateHandedOver()) {
                startedEmpty.add(t.name());
            }
        }
        long takeOver = (System.nanoTime() - t0) / 1_000_000;
        requireAlive(replacement, old, oldOps, services, "took over", List.of(), metadata);
        long t1 = System.nanoTime();
        Deadline.within(drain.plusSeconds(10), () -> oldOps.drain(drainMs));
        long drained = (System.nanoTime() - t1) / 1_000_000;
        linger(replacement, old, oldOps, services, anchors, metadata);
        int held = 0;
        try {
            held = Deadline.within(Duration.ofSeconds(10), oldOps::retire);
        } catch (WorkerDiedException gone) {
            // it went before it answered: nothing held it
        } catch (RuntimeException noRetire) {
            // a worker of a build from before retire: it exits now, as swaps did then
            LOG.debug("worker {} cannot retire ({}); telling it to exit", old.worker(), noRetire.toString());
            try {
                Deadline.within(Duration.ofSeconds(10), () -> {
                    oldOps.exit(0);
                    return null;
                });
            } catch (WorkerDiedException gone) {
                // it went before it answered: what was asked
            }
        }
        return new Swapped(old.worker().toString(), replacement.worker().id().toString(), host,
            services.stream().map(OpsInfo.ServiceType::name).toList(), anchors, (System.nanoTime() - start) / 1_000_000,
            takeOver, drained, held, List.copyOf(startedEmpty));
    }

    /**
     * The linger: callers still holding references to the old worker follow the move on their next call. A
     * replacement that ends meanwhile ends it, and the old worker takes its services back then, not once the
     * linger is over. One taken for ended that still answers (out of reach for the outage limit) is lingered
     * for to the end. Fails the swap, as {@link #requireAlive}, when the replacement does not answer at its end.
     */
    private void linger(Spawned<SwapIn.Taken> replacement, Entry old, Ops oldOps, List<OpsInfo.ServiceType> services,
                        List<String> anchors, java.util.Map<String, java.util.Map<String, String>> metadata)
        throws InterruptedException {
        String after = "took over and the old one drained";
        if (linger.isZero()) {
            requireAlive(replacement, old, oldOps, services, after, anchors, metadata);
            return;
        }
        long end = System.nanoTime() + linger.toNanos();
        java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        // on a thread of its own: watching needs ZooKeeper, which may be away (the linger is not held up then)
        Thread.ofVirtual().name("circuit-swap-linger-" + replacement.worker().id()).start(() -> {
            try {
                replacement.worker().onExit(ended::countDown);
            } catch (RuntimeException notWatched) {
                LOG.debug("the end of replacement {} cannot be watched ({}); the linger runs its full length",
                    replacement.worker().id(), notWatched.toString());
            }
        });
        if (ended.await(linger.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
            requireAlive(replacement, old, oldOps, services, after, anchors, metadata);
            long left = end - System.nanoTime();
            if (left > 0) {
                Thread.sleep(Duration.ofNanos(left)); // it answers after all: the rest of the linger
            }
        }
        requireAlive(replacement, old, oldOps, services, after, anchors, metadata);
    }

    /**
     * Tells the old worker that this runtime runs its swap ({@link Ops#swapDrivenBy}): should this runtime end
     * before it retired the old worker (the command killed), the old worker finishes the swap itself. A worker
     * of a build from before that cannot be told, and is swapped all the same.
     */
    private void drivenFromHere(Ops oldOps, Entry old) {
        try {
            Runnable driver = spawner.ref(Runnable.class, () -> { });
            Deadline.within(Duration.ofSeconds(10), () -> {
                oldOps.swapDrivenBy(driver);
                return null;
            });
        } catch (RuntimeException older) {
            LOG.debug("worker {} cannot be told who runs its swap ({}); a swap killed midway leaves it to the operator",
                old.worker(), older.toString());
        }
    }

    /**
     * Fails the swap when the replacement no longer answers, and has the old worker take its services
     * back: a swap that reported success then would have retired the only worker that still ran the old
     * objects, and one that failed without the take-back would leave the old worker forwarding to a dead one.
     */
    private void requireAlive(Spawned<SwapIn.Taken> replacement, Entry old, Ops oldOps, List<OpsInfo.ServiceType> services,
                              String after, List<String> withdrawn, java.util.Map<String, java.util.Map<String, String>> metadata) {
        try {
            Deadline.within(Duration.ofSeconds(10), () -> replacement.worker().dial(Ops.SERVICE, Ops.class).ping(1));
        } catch (WorkerDiedException died) {
            String back = takeBack(oldOps, services, old);
            if (!withdrawn.isEmpty()) {
                // the drain withdrew its anchors: without them, nothing that looks the service up finds it
                try {
                    Deadline.within(Duration.ofSeconds(10), () -> spawner.worker(old.address()).go(new Refile(withdrawn, metadata)));
                    back += ", filed again under " + withdrawn;
                } catch (RuntimeException notFiled) {
                    back += "; it could not be filed again under " + withdrawn + " (" + WorkerOps.why(notFiled) + ")";
                }
            }
            throw new IllegalStateException("the replacement " + replacement.worker().id() + " died after it " + after
                + "; " + back, died);
        }
    }

    /**
     * Has the old worker serve {@code services} again ({@link Ops#swapAbort}, which also takes back a
     * service it had forwarded already); says how that went.
     */
    private static String takeBack(Ops oldOps, List<OpsInfo.ServiceType> services, Entry old) {
        List<String> back = new java.util.ArrayList<>();
        List<String> failed = new java.util.ArrayList<>();
        for (OpsInfo.ServiceType t : services) {
            try {
                Deadline.within(Duration.ofSeconds(10), () -> {
                    oldOps.swapAbort(t.name());
                    return null;
                });
                back.add(t.name());
            } catch (RuntimeException e) {
                failed.add(t.name() + " (" + WorkerOps.why(e) + ")");
            }
        }
        return "the old worker " + old.worker() + " is left running" + (back.isEmpty() ? "" : " and serves " + back + " again")
            + (failed.isEmpty() ? "" : "; it could not take back " + failed);
    }

    /**
     * The metadata {@code old}'s worker filed itself with under each of {@code anchors} (the user's own, such
     * as {@code shard=3}), without what its runtime adds to every entry (its code version): the replacement
     * files itself with the same, under its own code version. A directory whose entry is gone has none.
     */
    private java.util.Map<String, java.util.Map<String, String>> metadataOf(Entry old, List<String> anchors) {
        java.util.Map<String, java.util.Map<String, String>> byDir = new java.util.TreeMap<>();
        for (String dir : anchors) {
            for (Entry x : hostEntries.apply(dir)) {
                if (x.worker().equals(old.worker()) && x.dir().equals(dir)) {
                    java.util.Map<String, String> own = new java.util.TreeMap<>(x.metadata());
                    own.remove(io.jcircuit.runtime.host.Deployment.CODE_KEY);
                    own.remove(io.jcircuit.runtime.host.Deployment.CODE_HASH_KEY);
                    if (!own.isEmpty()) {
                        byDir.put(dir, java.util.Map.copyOf(own));
                    }
                }
            }
        }
        return byDir;
    }

    /**
     * {@code code} with the lifetime of the worker whose entry under its host is {@code underHost}: a
     * replacement of a daemonized worker is daemonized; one of a worker that ends with its spawner ends with
     * that same runtime ({@link SpawnOptions#ownedBy}), not with the runtime that swaps (which may be a
     * command that exits at once). An entry that says neither (an older build's) is taken as daemonized, as
     * every replacement was before.
     */
    static SpawnOptions lifetimeOf(Entry underHost, SpawnOptions code) {
        java.util.Map<String, String> m = underHost.metadata();
        String owner = m.getOrDefault(io.jcircuit.runtime.host.WorkerMain.OWNER, m.get("spawner"));
        if (Boolean.parseBoolean(m.getOrDefault("daemon", "true")) || owner == null) {
            return code.daemonized();
        }
        return code.ownedBy(io.jcircuit.WorkerId.parse(owner));
    }

    /** {@code e}'s worker's entry under the host daemon that runs it: in the {@code /host/NAME} directory. */
    private Entry hostEntryOf(Entry e) {
        for (Entry x : hostEntries.apply(Hosts.DIR)) {
            if (x.worker().equals(e.worker())) {
                return x;
            }
        }
        throw new IllegalArgumentException("worker " + e.worker() + " was not started by a host (it is not filed under "
            + Hosts.DIR + "), so its replacement cannot be started beside it");
    }
}
