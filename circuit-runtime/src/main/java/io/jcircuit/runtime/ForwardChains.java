package io.jcircuit.runtime;

import io.jcircuit.Durable;
import io.jcircuit.Stored;
import io.jcircuit.WorkerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The forwarding records of hot swaps in the durable store, and the rule by which they go. A record
 * {@code /moved/<old worker>/<handle>} holds the replacement of the old worker's export; beside it, an
 * index entry {@code /moved-to/<replacement's worker>/<its handle>/<old worker>/<handle>} says which
 * records point at the replacement, so that they can be found by it without reading (and so acquiring)
 * the references they hold.
 *
 * <p>The rule: a record is kept while following it can lead to a live worker. Once the worker a record
 * points at has ended without forwarding that object on (it has no record of its own for it), the
 * record is deleted; and when the record's old worker has ended too, the records pointing at the old
 * worker's object go the same way, down a chain of swaps. A worker that ended after forwarding the
 * object (it retired after its own swap) keeps the records pointing at it: the chain goes on to its
 * replacement. {@link #forgetEnded} applies the rule for one worker that has ended.
 *
 * <p>Whether a worker has ended is not always known here: only the hosts can tell of one that has no
 * {@code /worker} entry and no link, and asking them is not done here (it is slow when a host is, and
 * {@link ForwardingRecords} holds its lock across these methods). A worker whose answer is {@link
 * Ended#ASK} is left as if it lived, and named to the caller, which asks the hosts and then runs {@link
 * #forgetIfEnded} for it: the records that point at it are found again by their index entries.
 *
 * <p>Not thread-safe by itself; {@link ForwardingRecords} serializes its calls. Every method throws
 * the durable store's exception when ZooKeeper is away; what it deleted before stays deleted, and
 * running it again finishes the work.
 */
final class ForwardChains {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardChains.class);

    static final String MOVED = "/moved";
    static final String MOVED_TO = "/moved-to";

    /** Chains longer than this are not followed further in one sweep (they do not arise: a guard). */
    private static final int MAX_DEPTH = 64;

    /** Whether a worker has ended, for good, as far as is known without asking the hosts. */
    enum Ended {
        /** It has ended: no {@code /worker} entry, no link, and every host said it does not run it. */
        YES,
        /** It lives, or may: it is filed or known to run here, or a host runs it or cannot be asked. */
        NO,
        /** Nothing here says it lives, or only a connected link does; only the hosts can tell, and they have not been asked. */
        ASK,
        /**
         * No host runs it, but a link to it is still connected: an unhosted runtime that lost its ZooKeeper
         * session for a while, or a worker that ended a moment ago (its link's end seen after its process's).
         * Taken for living, but a record that led on from it keeps its index entry, so that a later look at the
         * end of the worker the record pointed at finds it again.
         */
        LINKED
    }

    /**
     * What is known of whether a worker has ended, for good: not only without a {@code /worker} entry,
     * which one that lost its ZooKeeper session for a while lacks too ({@link CircuitRuntime#signsOfLife}).
     * Throws when ZooKeeper is away; never asks another runtime.
     */
    @FunctionalInterface
    interface EndedCheck {
        Ended of(WorkerId worker);
    }

    private final Durable durable;
    private final EndedCheck ended;
    /** The workers met with {@link Ended#ASK} since {@link #takeToAsk}. */
    private final Set<WorkerId> toAsk = new LinkedHashSet<>();
    /**
     * The index entries kept, as tombstones, of records deleted while their old worker's end was to be asked
     * of the hosts, by that worker: deleted by {@link #forgetIfEnded} once it has ended (see {@link #forgetHandle}).
     */
    private final Map<WorkerId, Set<String>> tombstones = new java.util.HashMap<>();

    ForwardChains(Durable durable, EndedCheck ended) {
        this.durable = durable;
        this.ended = ended;
    }

    /**
     * The workers whose end these methods could not tell since the last call (their answer was {@link
     * Ended#ASK}): once the hosts have answered for them, {@link #forgetIfEnded} each one.
     */
    Set<WorkerId> takeToAsk() {
        Set<WorkerId> taken = Set.copyOf(toAsk);
        toAsk.clear();
        return taken;
    }

    /** Whether {@code worker} has ended, for good; false when unknown (and then it is to be asked of the hosts). */
    private boolean hasEnded(WorkerId worker) {
        return switch (ended.of(worker)) {
            case YES -> true;
            case NO, LINKED -> false;
            case ASK -> {
                toAsk.add(worker);
                yield false;
            }
        };
    }

    /** Where the durable store keeps the replacement of export {@code handle} of {@code worker} after a hot swap. */
    static String recordPath(WorkerId worker, long handle) {
        return MOVED + "/" + worker + "/" + handle;
    }

    /** The index entry of the record of {@code old}'s export {@code handle}, which points at {@code to}'s {@code toHandle}. */
    static String indexPath(WorkerId to, long toHandle, WorkerId old, long handle) {
        return MOVED_TO + "/" + to + "/" + toHandle + "/" + old + "/" + handle;
    }

    /** What an index entry holds: its record's path, for a reader of the store. */
    static byte[] indexValue(String recordPath) {
        return recordPath.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * {@code worker} has ended: deletes the records that lead only to it, and so on down their chains
     * through old workers that have ended too. Returns how many records it deleted.
     */
    int forgetEnded(WorkerId worker) {
        Map<Long, List<Pointer>> byHandle = pointersTo(worker);
        int deleted = 0;
        for (var e : byHandle.entrySet()) {
            deleted += forgetHandle(worker, e.getKey(), e.getValue(), 0);
        }
        if (deleted > 0) {
            LOG.info("worker {} has ended: deleted {} forwarding records that led only to it", worker, deleted);
        }
        return deleted;
    }

    /**
     * As {@link #forgetEnded}, when {@code worker} has ended; nothing otherwise. A record written for an
     * object of a worker that ended before it was written (ZooKeeper was away meanwhile, and the deletion
     * of what leads to that worker ran first) is deleted by it. Returns how many records it deleted.
     */
    int forgetIfEnded(WorkerId worker) {
        Ended e = ended.of(worker);
        if (e == Ended.ASK) {
            toAsk.add(worker); // its tombstones are kept here for the hosts' answer
            return 0;
        }
        Set<String> kept = tombstones.remove(worker);
        if (e != Ended.YES) {
            return 0; // the tombstones stay in the store: the next look at the end of the worker they point at finds them
        }
        int deleted = forgetEnded(worker);
        if (kept != null) {
            for (String index : kept) {
                durable.delete(index); // what came before it in its chain is done now
            }
        }
        return deleted;
    }

    /**
     * Applies the rule for every worker that records point at and that has ended, told or not: what a
     * worker that ended unseen left (it ended while ZooKeeper was away, and whoever would have deleted its
     * records ended too before it came back). Returns how many records it deleted.
     */
    int forgetAllEnded() {
        int deleted = 0;
        for (String dir : durable.list(MOVED_TO).directories()) {
            String name = dir.substring(dir.lastIndexOf('/') + 1);
            if (!WorkerId.looksLikeWorkerId(name)) {
                LOG.warn("{} is not named by a worker; left as it is", dir);
                continue;
            }
            WorkerId w = WorkerId.parse(name);
            if (hasEnded(w)) {
                deleted += forgetEnded(w);
            }
        }
        return deleted;
    }

    /** A record pointing at an object: the old worker's export, and the index entry that lists it. */
    private record Pointer(WorkerId old, long handle, String index) {
    }

    /** The records pointing at {@code worker}'s objects, by the handle they point at. */
    private Map<Long, List<Pointer>> pointersTo(WorkerId worker) {
        Map<Long, List<Pointer>> byHandle = new TreeMap<>();
        for (Stored s : durable.listAll(MOVED_TO + "/" + worker).entries()) {
            String[] c = s.path().substring(1).split("/");
            // moved-to / <worker> / <handle> / <old worker> / <old handle>
            try {
                if (c.length == 5) {
                    byHandle.computeIfAbsent(Long.parseLong(c[2]), h -> new ArrayList<>())
                        .add(new Pointer(WorkerId.parse(c[3]), Long.parseLong(c[4]), s.path()));
                    continue;
                }
            } catch (IllegalArgumentException bad) {
                // not one of ours: said below
            }
            LOG.warn("{} is no forwarding record's index entry (/moved-to/WORKER/HANDLE/OLD_WORKER/OLD_HANDLE); left as it is",
                s.path());
        }
        return byHandle;
    }

    /**
     * {@code worker}, which has ended, held the object {@code handle} that {@code pointers} point at.
     * Unless it forwarded the object on, they lead nowhere: each goes, and so do those pointing at its
     * old worker's object when that worker has ended too.
     */
    private int forgetHandle(WorkerId worker, long handle, List<Pointer> pointers, int depth) {
        if (depth > MAX_DEPTH || durable.getBytes(recordPath(worker, handle)).isPresent()) {
            return 0; // it forwarded the object on: the chain goes on from here
        }
        int deleted = 0;
        for (Pointer p : pointers) {
            // the record first: an index entry without its record is harmless, a record without one is not found again
            if (durable.delete(recordPath(p.old(), p.handle()))) {
                deleted++;
            }
            Ended old = ended.of(p.old());
            if (old == Ended.YES) {
                List<Pointer> before = pointersTo(p.old()).getOrDefault(p.handle(), List.of());
                deleted += forgetHandle(p.old(), p.handle(), before, depth + 1);
            } else if (old == Ended.ASK) {
                // Kept, as a tombstone of the record, until the hosts have answered for the old worker: the
                // answer deletes it in this run ({@link #forgetIfEnded}); a run that ends first (its runtime
                // closed: a worker that ends looks at its own records as it closes) leaves it to the next look at
                // this worker's end (its host's, once its process has ended; a host daemon's start), which then
                // finds the old worker again. Before, it went here, and the records before it stayed.
                toAsk.add(p.old());
                tombstones.computeIfAbsent(p.old(), w -> new LinkedHashSet<>()).add(p.index());
                continue;
            } else if (old == Ended.LINKED) {
                continue; // its tombstone stays in the store for the next look at this worker's end
            }
            // the index entry last: until the chain before it is done, it is what leads a run again there; an old
            // worker that lives deletes the records before it when it ends, as this record is gone by then
            durable.delete(p.index());
        }
        return deleted;
    }
}
