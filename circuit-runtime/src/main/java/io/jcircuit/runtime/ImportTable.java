package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.RefDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * References this runtime holds to other runtimes' exports (the importer's side of distributed GC).
 *
 * <p>There is one handler per remote export while any proxy on it is reachable, and it counts the
 * holds home counts for this runtime through it: one each time the reference arrived from its home
 * (which counted one when it sent it), and one for each of its acquires that home counted or may
 * have counted: it arrived from a third runtime (whereupon this runtime {@code Acquire}s it at home),
 * or was read from the durable store while this runtime held none of it. When the handler becomes
 * unreachable a {@link Cleaner} queues a {@code Release} of that count; releases go out in batches,
 * one message per home.
 *
 * <p>A release gives back no more than home can have counted: home's count is per runtime, not per
 * handler, and a release of more would take holds of a newer handler of the same reference (the old
 * one collected, a fresh arrival acquired, then the old one's release arrived), and home could
 * collect an object that live handler still needs. So an acquire that was never sent counts nothing
 * here; one sent whose outcome is unknown (its answer lost, its deadline passed) counts as counted,
 * leaking a hold rather than freeing a live object ({@link Acquires.Outcome}).
 *
 * <p>An acquire that could not be sent is tried again while its handler is reachable
 * ({@link Acquires}); when it is given up, and no other hold of the handler is counted at home, the
 * reference is lost as when its home's session ends ({@link RefHandler#notHeld}): its calls fail at
 * once with a clear error, rather than work until home, counting nothing for it, collects its
 * object. It leaves the table, so that the same reference received or read again later gets a
 * handler of its own, acquired again.
 *
 * <p>A release never overtakes an acquire of the same handler: while an acquire of it has not been
 * answered by home, its release waits, and goes once the last such acquire has been answered
 * (whether it succeeded or not). Acquires run on threads of their own ({@link Acquires}) and releases
 * on another, so nothing else orders them; a release that reached home first found no hold to take
 * back, and the acquire after it left a hold for this runtime that nothing would ever release.
 *
 * <p>A runtime that passes a reference on to a third runtime keeps its handler reachable for
 * {@link #PIN_NANOS} afterwards, so that the receiver's acquire reaches home before this runtime's
 * release could; or until it closes ({@link #close}), after which it sends no release.
 */
final class ImportTable {

    private static final Logger LOG = LoggerFactory.getLogger(ImportTable.class);
    static final long PIN_NANOS = TimeUnit.SECONDS.toNanos(60);

    private record Key(WorkerId home, long handle) {
    }

    private static final class Entry {
        final WeakReference<RefHandler> handler;
        final Address address;
        /**
         * Holds home counts (or may count) for this runtime through this handler: what its release gives
         * back. Guarded by the entry.
         */
        long counted;
        /** Acquires of this handler at home not answered yet; guarded by the entry. */
        int acquiring;
        /** The handler was collected: its release goes once {@link #acquiring} is 0; guarded by the entry. */
        boolean dropped;
        /** The entry left the table ({@link #sessionEnded}, {@link Acquiring}): no arrival counts on it any more; guarded by the entry. */
        boolean gone;

        Entry(RefHandler handler, Address address) {
            this.handler = new WeakReference<>(handler);
            this.address = address;
        }
    }

    private record Pin(RefHandler handler, long until) {
    }

    /**
     * One pending release: how many holds of an export at a home to give back, counted in the sessions with
     * that home that {@code sessions} stands for ({@link #sessionTokens}).
     */
    record Pending(WorkerId home, Address address, long handle, long count, Object sessions) {
    }

    /**
     * For each home holds were counted at, a token of its sessions since the last one ended for good: replaced
     * (removed, made again when next needed) when {@link #sessionEnded}, after each of its entries was emptied.
     * A release carries the token of when its count was read, and goes only while that is still the token
     * ({@link #current}): home forgot holds counted before the end, and a later session's would be taken.
     */
    private final ConcurrentHashMap<WorkerId, Object> sessionTokens = new ConcurrentHashMap<>();

    private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();
    /**
     * Peers whose session ended for good, with none begun since ({@link #sessionEnded}, {@link #sessionBegan}),
     * with when it ended. Only a message of that session still being read needs this, so each is kept for
     * {@link #ENDED_KEPT_NANOS}, not for ever: a runtime that outlives many peers (a host, a console) keeps
     * none of those that ended long ago.
     */
    private final ConcurrentHashMap<WorkerId, Long> ended = new ConcurrentHashMap<>();
    /** How long a peer whose session ended stays in {@link #ended}: far longer than reading one message takes. */
    static final long ENDED_KEPT_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    private final long endedKeptNanos;
    private final ConcurrentLinkedQueue<Pending> releases = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Pin> pins = new ArrayDeque<>();
    private final AtomicBoolean flushing = new AtomicBoolean();
    private final Cleaner cleaner;
    private final Consumer<List<Pending>> sender;
    /** What the cleaner's actions hold of this table ({@link Dropped}). */
    private final WeakReference<ImportTable> self;

    /** How long a reference passed on stays pinned. */
    private final long pinNanos;
    /** The thread that drops pins as they expire, while there are any; guarded by {@link #pins}. */
    private Thread expiring;
    /** Set by {@link #close}, under {@link #pins}: nothing is pinned or released any more. */
    private volatile boolean closed;

    /** @param sender sends the releases of one home; runs on a virtual thread */
    ImportTable(Cleaner cleaner, Consumer<List<Pending>> sender) {
        this(cleaner, sender, PIN_NANOS);
    }

    /** With {@code pinNanos} for {@link #PIN_NANOS}: for tests. */
    ImportTable(Cleaner cleaner, Consumer<List<Pending>> sender, long pinNanos) {
        this(cleaner, sender, pinNanos, ENDED_KEPT_NANOS);
    }

    /** With {@code endedKeptNanos} for {@link #ENDED_KEPT_NANOS} too: for tests. */
    ImportTable(Cleaner cleaner, Consumer<List<Pending>> sender, long pinNanos, long endedKeptNanos) {
        this.endedKeptNanos = endedKeptNanos;
        this.cleaner = cleaner;
        this.sender = sender;
        this.self = new WeakReference<>(this);
        this.pinNanos = pinNanos;
    }

    /**
     * The handler for a reference received from {@code from} (null for a local copy); counts the
     * arrival. When it came from a third runtime the caller must acquire it at home: then
     * {@code acquired[0]} is set to the owner of that acquire, which is told how it ended (the
     * handler's release waits for that); otherwise it is set to null.
     *
     * <p>Every arrival is one hold, also of a reference this runtime holds already: home counts one
     * for each copy it sends, not knowing what the receiver holds, and an arrival from a third runtime
     * is acquired each time in the same way, and counted once home has answered (or may have counted
     * it: {@link Acquires.Outcome#UNKNOWN}), not when it was never sent. So {@code counted} is what home
     * counts for this handler, whatever the order of arrivals, acquires and collections, and its
     * release gives back just that.
     * An arrival came in a message, so its acquire costs at most one more; a stored read comes in none
     * ({@link #storedHandlerFor}).
     */
    RefHandler handlerFor(RefDescriptor d, WorkerId from, java.util.function.Function<RefDescriptor, RefHandler> make,
                          Acquires.Owner[] acquired) {
        Key key = new Key(d.home(), d.handle());
        acquired[0] = null;
        while (true) {
            Entry[] held = {null};
            RefHandler h = handler(key, d, from, make, held);
            Entry e = held[0];
            if (e == null || from == null) {
                return h;
            }
            synchronized (e) { // its handler is held here: the entry cannot be dropped before this
                if (e.gone) {
                    continue; // it left the table since: the arrival goes to a handler of its own
                }
                if (from.equals(d.home())) {
                    e.counted++;
                } else {
                    acquired[0] = owe(key, e);
                }
            }
            return h;
        }
    }

    /**
     * The handler for a reference read from a stored value (the durable store), which no peer sent:
     * home has counted nothing for it. It is acquired there only when this runtime holds no hold of it
     * yet (its handler is new, or was made by a local copy): then {@code acquired[0]} is set as by
     * {@link #handlerFor}, and otherwise to null. A runtime that holds the reference already is counted
     * at home for as long as the handler it gets back is reachable, since the release of that count
     * waits for the handler to be collected; so a value read many times costs one acquire, not one per
     * read (before, each read sent one, and dialed a dead home's address again each time). A read
     * after the handler was collected gets a new one, acquired again; the old one's release gives back
     * only what it counted. A read while its acquire is tried again ({@link Acquires}) costs none
     * either; one after that acquire was given up, the handler lost, gets a new one, acquired again.
     */
    RefHandler storedHandlerFor(RefDescriptor d, java.util.function.Function<RefDescriptor, RefHandler> make,
                                Acquires.Owner[] acquired) {
        Key key = new Key(d.home(), d.handle());
        acquired[0] = null;
        while (true) {
            Entry[] held = {null};
            RefHandler h = handler(key, d, null, make, held);
            Entry e = held[0];
            // h is reachable here, so e is not dropped: its count at home stays until h is collected
            synchronized (e) {
                if (e.gone) {
                    continue;
                }
                if (e.counted == 0 && e.acquiring == 0) {
                    acquired[0] = owe(key, e);
                }
            }
            return h;
        }
    }

    /** Guarded by {@code e}: {@code e}'s handler is acquired at home, and its release waits until that has been answered. */
    private Acquires.Owner owe(Key key, Entry e) {
        e.acquiring++;
        return new Acquiring(self, key, e);
    }

    /**
     * The reachable handler for {@code key}, made when there is none; {@code entry[0]} is set to its
     * entry, or to null when the reference is lost at once (read from {@code from}'s session after it
     * ended: nothing of it is counted).
     */
    private RefHandler handler(Key key, RefDescriptor d, WorkerId from,
                               java.util.function.Function<RefDescriptor, RefHandler> make, Entry[] entry) {
        while (true) {
            Entry e = entries.get(key);
            RefHandler h = e == null ? null : e.handler.get();
            if (h == null) {
                h = make.apply(d);
                if (from != null && from.equals(d.home()) && ended.containsKey(from)) {
                    // read from a message of the ended session after it ended: its home has let it go too
                    h.sessionEnded("the session ended while its message was read");
                    entry[0] = null;
                    return h;
                }
                Entry fresh = new Entry(h, d.address());
                boolean won = e == null ? entries.putIfAbsent(key, fresh) == null : entries.replace(key, e, fresh);
                if (!won) {
                    continue;
                }
                cleaner.register(h, new Dropped(self, key, fresh));
                e = fresh;
            }
            entry[0] = e;
            return h;
        }
    }

    /**
     * The session with {@code home} ended for good and {@code home} dropped what this runtime held: its
     * references here are lost ({@link RefHandler#sessionEnded}) and leave the table, with nothing left
     * to release; releases already queued for it are dropped. A reference to the same object received
     * later gets a handler of its own. Returns how many references were lost.
     */
    int sessionEnded(WorkerId home, String reason) {
        long now = System.nanoTime();
        ended.values().removeIf(at -> now - at >= endedKeptNanos);
        ended.put(home, now); // first: a reference read from it from now on is lost too (handlerFor)
        releases.removeIf(p -> p.home().equals(home)); // it has forgotten those holds: a later session's would go
        // (those taken off the queue already are caught by their token, replaced below)
        int lost = 0;
        for (Map.Entry<Key, Entry> e : entries.entrySet()) {
            if (!e.getKey().home().equals(home)) {
                continue;
            }
            synchronized (e.getValue()) {
                e.getValue().counted = 0; // home has forgotten these holds: a release would take newer ones
                e.getValue().gone = true;
            }
            entries.remove(e.getKey(), e.getValue());
            RefHandler h = e.getValue().handler.get();
            if (h != null && h.sessionEnded(reason)) {
                lost++;
            }
        }
        // last: a count read before its entry was emptied above carries the token of the sessions that ended
        sessionTokens.remove(home);
        return lost;
    }

    /**
     * Of {@code batch}, the releases still owed: those counted in sessions with their home of which one is
     * still up. Call after finding the session to send them on, so that a session begun after the check
     * cannot take them.
     */
    List<Pending> current(List<Pending> batch) {
        List<Pending> owed = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            if (sessionTokens.get(p.home()) == p.sessions()) {
                owed.add(p);
            }
        }
        return owed;
    }

    private Object sessionToken(WorkerId home) {
        return sessionTokens.computeIfAbsent(home, h -> new Object());
    }

    /** How many releases wait to be sent: for tests. */
    int queuedReleases() {
        return releases.size();
    }

    /** How many peers are kept as ended ({@link #sessionEnded}): for tests. */
    int endedPeers() {
        return ended.size();
    }

    /** A session with {@code peer} began: what it sends from now on is held there again. */
    void sessionBegan(WorkerId peer) {
        ended.remove(peer);
    }

    /**
     * Keeps {@code handler} reachable for a while: it is being passed to a third runtime. The pin goes
     * when it expires, whether or not more references are passed (before, the last ones passed stayed
     * pinned until the next pass, and their exports, and the workers that held them, with them), or
     * when the table closes. Nothing is pinned once it has.
     */
    void pin(RefHandler handler) {
        long now = System.nanoTime();
        synchronized (pins) {
            if (closed) {
                return;
            }
            dropExpiredPins(now);
            pins.addLast(new Pin(handler, now + pinNanos));
            if (expiring == null) {
                expiring = Thread.ofVirtual().name("circuit-pins").start(this::expirePins);
            }
        }
    }

    /** Drops pins as they expire, until none is left. */
    private void expirePins() {
        while (true) {
            long wait;
            synchronized (pins) {
                dropExpiredPins(System.nanoTime());
                if (pins.isEmpty()) {
                    expiring = null;
                    return;
                }
                wait = pins.peekFirst().until - System.nanoTime();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.max(wait, 1_000_000L));
        }
    }

    /** Guarded by {@link #pins}. */
    private void dropExpiredPins(long now) {
        while (!pins.isEmpty() && pins.peekFirst().until - now < 0) {
            pins.pollFirst();
        }
    }

    /** References pinned now. */
    int pinned() {
        synchronized (pins) {
            return pins.size();
        }
    }

    /**
     * The cleaner's action for an imported handler. It holds the table weakly: the cleaner's thread,
     * shared by the runtimes of the JVM, keeps its actions reachable, and an action that held the table
     * would keep the table, and through its sender the whole runtime, alive after {@code close}.
     */
    private record Dropped(WeakReference<ImportTable> table, Key key, Entry entry) implements Runnable {
        @Override
        public void run() {
            ImportTable t = table.get();
            if (t != null) {
                t.dropped(key, entry);
            }
        }
    }

    private void dropped(Key key, Entry entry) {
        if (closed) {
            return; // the runtime closed: its peers dropped its holds, and nothing is sent any more
        }
        entries.remove(key, entry);
        synchronized (entry) {
            entry.dropped = true;
            if (entry.acquiring > 0) {
                return; // released once home has answered them (acquired): not before they count there
            }
        }
        release(key, entry);
    }

    /**
     * The owner of one acquire of an entry's handler ({@link Acquires}). It holds the table weakly, as
     * {@link Dropped} does, and the handler only through the entry's weak reference: an acquire waiting
     * to be tried again keeps neither reachable.
     */
    private record Acquiring(WeakReference<ImportTable> table, Key key, Entry entry) implements Acquires.Owner {
        @Override
        public boolean wanted() {
            ImportTable t = table.get();
            synchronized (entry) {
                return t != null && !t.closed && !entry.dropped && !entry.gone && entry.handler.get() != null;
            }
        }

        @Override
        public void answered(Acquires.Outcome outcome, String why) {
            ImportTable t = table.get();
            if (t != null) {
                t.acquired(key, entry, outcome, why);
            }
        }
    }

    /**
     * An acquire of {@code entry}'s handler ended: home counted it, may have, or was never sent it. A
     * release that waited for it goes now; a handler of which home counts nothing, its acquires over,
     * is lost. An acquire that ends after the session with home ended counts nothing: home dropped it.
     */
    private void acquired(Key key, Entry entry, Acquires.Outcome outcome, String why) {
        boolean release;
        boolean notHeld;
        synchronized (entry) {
            // Also when unknown: a hold leaked rather than a live object freed. Not once the session with home
            // ended (sessionEnded: the only way an entry with an acquire owed is gone): home dropped
            // every hold of this runtime with it, this one too if it counted it, and a release of it would take
            // one home counts for a newer handler in a later session. One that went in a new session leaks.
            if (outcome != Acquires.Outcome.NOT_SENT && !entry.gone) {
                entry.counted++;
            }
            release = --entry.acquiring == 0 && entry.dropped;
            notHeld = entry.acquiring == 0 && !entry.dropped && !entry.gone && entry.counted == 0;
            if (notHeld) {
                entry.gone = true; // a later arrival or read gets a handler of its own, acquired again
            }
        }
        if (notHeld) {
            // also once closed: an entry marked gone and left in the table is found, and skipped, for ever
            // by the next arrival of its reference while its handler is reachable (handlerFor)
            entries.remove(key, entry);
        }
        if (closed) {
            return;
        }
        if (release) {
            release(key, entry);
        } else if (notHeld) {
            RefHandler h = entry.handler.get();
            if (h != null && h.notHeld("its home " + key.home() + " could not be told that this runtime holds it ("
                + why + "), and may have collected its object")) {
                LOG.debug("reference {}#{} is not held at its home: {}", key.home(), key.handle(), why);
            }
        }
    }

    /**
     * A message from {@code home} could not be read, and these holds it listed, of references to
     * {@code home}'s exports that were not read, would otherwise stay counted for this runtime there:
     * they are released with the next batch. Not after the session with {@code home} ended (it dropped
     * them), nor once this table has closed.
     */
    void releaseUnread(WorkerId home, Address address, long[] handles) {
        Object sessions = sessionToken(home);
        if (closed || ended.containsKey(home)) { // looked at after the token: sessionEnded marks ended first, replaces it last
            sessionTokens.remove(home, sessions); // not kept for a home that may not come back
            return;
        }
        for (long handle : handles) {
            releases.add(new Pending(home, address, handle, 1, sessions));
        }
        flushSoon();
    }

    /** Queues the release of what {@code entry} counted: once, after its handler was dropped and its acquires answered. */
    private void release(Key key, Entry entry) {
        long n;
        Object sessions;
        synchronized (entry) { // sessionEnded empties the entry under this lock before it replaces the token
            n = entry.counted;
            sessions = n > 0 ? sessionToken(key.home()) : null;
        }
        if (n > 0) {
            releases.add(new Pending(key.home(), entry.address, key.handle(), n, sessions));
            flushSoon();
        }
    }

    private void flushSoon() {
        if (flushing.compareAndSet(false, true)) {
            Thread.ofVirtual().name("circuit-release").start(this::flush);
        }
    }

    private void flush() {
        try {
            Map<WorkerId, List<Pending>> byHome = new HashMap<>();
            for (Pending p; (p = releases.poll()) != null; ) {
                byHome.computeIfAbsent(p.home(), k -> new ArrayList<>()).add(p);
            }
            for (List<Pending> queued : byHome.values()) {
                List<Pending> batch = current(queued);
                if (batch.isEmpty()) {
                    continue;
                }
                try {
                    sender.accept(batch);
                } catch (RuntimeException e) {
                    LOG.debug("cannot release {} references at {}: {}", batch.size(), batch.getFirst().home(), e.toString());
                }
            }
        } finally {
            flushing.set(false);
            if (!releases.isEmpty()) {
                flushSoon();
            }
        }
    }

    /**
     * The runtime closes: its pins go, and their thread ends, at once. Its peers dropped every hold it
     * had when its sessions ended, so there is nothing left to keep or release; a pin kept after close
     * held its handler, and through it the whole closed runtime, for {@link #PIN_NANOS}. Idempotent.
     */
    void close() {
        Thread t;
        synchronized (pins) {
            closed = true;
            pins.clear();
            t = expiring;
        }
        if (t != null) {
            java.util.concurrent.locks.LockSupport.unpark(t); // finds no pin left, and ends
        }
    }

    /** Remote exports with a reachable handler here. */
    int size() {
        return entries.size();
    }
}
