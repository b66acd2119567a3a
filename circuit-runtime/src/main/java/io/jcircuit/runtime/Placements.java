package io.jcircuit.runtime;

import io.jcircuit.Entry;
import io.jcircuit.runtime.host.HostService;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a spawn on {@link io.jcircuit.Circuit#ANY_HOST} goes: to the least loaded host, at random
 * among equally loaded ones. A host's load is the number of workers it runs as a listing of
 * {@code /host} shows them (the larger of the count the host publishes, which it raises only a moment
 * after a worker has started, and the worker entries filed beside it), plus the spawns this runtime
 * has sent it that the listing cannot show yet: those still in flight, and those that returned after
 * the listing was taken. Without them, spawns made together all read the same counts and go to the
 * same host. Thread-safe; nothing in here waits on the network.
 */
final class Placements {

    /**
     * How long a spawn that returned is still counted for listings taken before it returned: far
     * longer than a listing takes. A spawn that started a worker has filed its entry by then.
     */
    private static final long SETTLED_NANOS = 10_000_000_000L;

    /** The spawns this runtime sent a host that a listing may not show. Guarded by {@code this}. */
    private final List<Placement> placed = new ArrayList<>();

    /** One spawn sent to {@link #host}: counted until it failed, or until every listing shows its worker. */
    final class Placement implements AutoCloseable {

        private final Entry host;
        /** Whether, and when ({@link System#nanoTime}), the spawn returned a started worker. Guarded by {@code Placements.this}. */
        private boolean started;
        private long startedAt;

        private Placement(Entry host) {
            this.host = host;
        }

        Entry host() {
            return host;
        }

        /** The worker started: counted on for listings taken before now. */
        void started() {
            synchronized (Placements.this) {
                startedAt = System.nanoTime();
                started = true;
            }
        }

        /** Stops counting a spawn that did not start a worker. */
        @Override
        public void close() {
            synchronized (Placements.this) {
                if (!started) {
                    placed.remove(this);
                }
            }
        }
    }

    /**
     * Chooses among {@code candidates} (host entries of {@code listing}, a listing of {@code /host}
     * begun at {@code listedAt}, by {@link System#nanoTime}). When {@code counted} (the request starts
     * a worker), counts it to the host chosen until the caller marks it {@link Placement#started} or
     * closes it. Null when there is no candidate.
     */
    synchronized Placement take(Collection<Entry> candidates, List<Entry> listing, long listedAt, boolean counted) {
        long now = System.nanoTime();
        placed.removeIf(p -> p.started && now - p.startedAt > SETTLED_NANOS);
        List<Entry> least = new ArrayList<>();
        int min = Integer.MAX_VALUE;
        for (Entry h : candidates) {
            int load = load(h, listing, listedAt);
            if (load < min) {
                min = load;
                least.clear();
            }
            if (load == min) {
                least.add(h);
            }
        }
        if (least.isEmpty()) {
            return null;
        }
        // At random among the least loaded, so that spawners that do not see each other's spawns spread too.
        Placement p = new Placement(least.get(ThreadLocalRandom.current().nextInt(least.size())));
        if (counted) {
            placed.add(p);
        }
        return p;
    }

    /** Host {@code h}'s workers as {@code listing} shows them, plus this runtime's spawns to it that it cannot show. */
    private int load(Entry h, List<Entry> listing, long listedAt) {
        int filed = 0;
        for (Entry e : listing) {
            if (e.dir().equals(h.dir()) && HostService.ROLE_WORKER.equals(e.metadata().get(HostService.ROLE_KEY))) {
                filed++;
            }
        }
        int unseen = 0;
        for (Placement p : placed) {
            if (p.host.worker().equals(h.worker()) && (!p.started || p.startedAt - listedAt > 0)) {
                unseen++;
            }
        }
        return Math.max(published(h), filed) + unseen;
    }

    /** The worker count host {@code h} publishes in its entry; 0 when it publishes none. */
    private static int published(Entry h) {
        try {
            return Integer.parseInt(h.metadata().getOrDefault("workers", "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
