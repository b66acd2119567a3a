package io.jcircuit.runtime;

import io.jcircuit.WorkerId;

import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * The objects this runtime exports, by handle, and who holds them (distributed GC, DESIGN §1).
 * Exporting the same object as the same interface twice yields the same handle, so references to it
 * compare equal everywhere.
 *
 * <p>An export lives while any of these holds it:
 * <ul>
 *   <li>it is published with {@code listen}, under a name that still serves it;</li>
 *   <li>it is permanent: stored in the durable store;</li>
 *   <li>a reference to it in this runtime is reachable (its handler; a {@link Cleaner} reports when
 *       it is not);</li>
 *   <li>another runtime holds it: each time this runtime sends the reference to a peer, that peer's
 *       count goes up by one ({@link #heldBy}), and down again when the message is not sent after all
 *       ({@link #unsent}); a third runtime that receives it from elsewhere
 *       {@link #acquire}s it; a {@link #release} takes back the count the importer received; a peer
 *       that dies loses all its holds ({@link #dropHolder}).</li>
 * </ul>
 * When none holds it any more, it is removed and its object can be collected.
 */
final class ExportTable {

    /** Identity of an export: the object (by identity) and the interface it is exported as. */
    private record Key(Object impl, Class<?> iface) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.impl == impl && k.iface == iface;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(impl) * 31 + iface.hashCode();
        }
    }

    /** Who holds one export; guarded by the table's lock. */
    private static final class Holds {
        final Key key;
        boolean permanent;
        /** How many service names publish it: each keeps it, until the name serves another object or none. */
        int served;
        WeakReference<RefHandler> local;
        final Map<WorkerId, Long> remote = new HashMap<>(2);

        Holds(Key key) {
            this.key = key;
        }
    }

    private final ConcurrentHashMap<Long, Export> byHandle = new ConcurrentHashMap<>();
    private final Map<Key, Export> byObject = new HashMap<>();
    private final Map<Long, Holds> holds = new HashMap<>();
    private final Cleaner cleaner;
    /** What the cleaner's actions hold of this table ({@link LocalDropped}). */
    private final WeakReference<ExportTable> self;
    private long nextHandle = 1;
    /** Acquires counted ({@link #acquire}), for tests; guarded by the table's lock. */
    private long acquires;

    ExportTable(Cleaner cleaner) {
        this.cleaner = cleaner;
        this.self = new WeakReference<>(this);
    }

    /**
     * Exports {@code impl} as {@code iface}, or finds its existing export, and returns this runtime's
     * handler on it, made by {@code handlerFor} when none is reachable.
     */
    synchronized RefHandler export(Class<?> iface, Object impl, LongFunction<RefHandler> handlerFor) {
        Key key = new Key(impl, iface);
        Export e = byObject.get(key);
        if (e == null) {
            long handle = nextHandle++;
            e = Export.of(handle, iface, impl);
            byObject.put(key, e);
            byHandle.put(handle, e);
            holds.put(handle, new Holds(key));
        }
        return localHandler(e.handle(), handlerFor);
    }

    /** This runtime's handler on export {@code handle}, or null when there is no such export. */
    synchronized RefHandler localHandler(long handle, LongFunction<RefHandler> handlerFor) {
        Holds h = holds.get(handle);
        if (h == null) {
            return null;
        }
        RefHandler handler = h.local == null ? null : h.local.get();
        if (handler == null) {
            handler = handlerFor.apply(handle);
            WeakReference<RefHandler> ref = new WeakReference<>(handler);
            h.local = ref;
            cleaner.register(handler, new LocalDropped(self, handle, ref));
        }
        return handler;
    }

    /**
     * The cleaner's action for a local handler. It holds the table weakly: the cleaner's thread, shared
     * by the runtimes of the JVM, keeps its actions reachable, and an action that held the table would
     * keep the table, and through the exports the whole runtime, alive after {@code close}.
     */
    private record LocalDropped(WeakReference<ExportTable> table, long handle, WeakReference<RefHandler> ref)
        implements Runnable {
        @Override
        public void run() {
            ExportTable t = table.get();
            if (t != null) {
                t.localDropped(handle, ref);
            }
        }
    }

    private synchronized void localDropped(long handle, WeakReference<RefHandler> ref) {
        Holds h = holds.get(handle);
        if (h != null && h.local == ref) {
            h.local = null;
            collectIfFree(handle, h);
        }
    }

    /** The export under {@code handle}, or {@code null}. Lock-free. */
    Export get(long handle) {
        return byHandle.get(handle);
    }

    /** Export {@code handle} is kept for as long as this runtime runs. */
    synchronized void makePermanent(long handle) {
        Holds h = holds.get(handle);
        if (h != null) {
            h.permanent = true;
        }
    }

    /** A service name publishes {@code handle}: it is kept until {@link #unserve}. */
    synchronized void serve(long handle) {
        Holds h = holds.get(handle);
        if (h != null) {
            h.served++;
        }
    }

    /** A service name no longer publishes {@code handle}: collected once nothing else holds it. */
    synchronized void unserve(long handle) {
        Holds h = holds.get(handle);
        if (h != null && h.served > 0) {
            h.served--;
            collectIfFree(handle, h);
        }
    }

    /** The reference to {@code handle} is on its way to {@code peer}: one more hold for it. */
    synchronized void heldBy(long handle, WorkerId peer) {
        Holds h = holds.get(handle);
        if (h != null) {
            h.remote.merge(peer, 1L, Long::sum);
        }
    }

    /**
     * {@code peer} will not get the references to {@code handles} that were counted as held by it
     * ({@link #heldBy}): the message that carried them was not sent. One hold of each is taken back, a
     * handle listed twice twice.
     */
    synchronized void unsent(WorkerId peer, long[] handles) {
        for (long handle : handles) {
            Holds h = holds.get(handle);
            if (h == null) {
                continue;
            }
            long left = h.remote.getOrDefault(peer, 0L) - 1;
            if (left > 0) {
                h.remote.put(peer, left);
            } else {
                h.remote.remove(peer);
                collectIfFree(handle, h);
            }
        }
    }

    /**
     * {@code peer} received the reference from a third runtime and holds it now.
     *
     * @return false when there is no such export any more
     */
    synchronized boolean acquire(long handle, WorkerId peer) {
        Holds h = holds.get(handle);
        if (h == null) {
            return false;
        }
        h.remote.merge(peer, 1L, Long::sum);
        acquires++;
        return true;
    }

    /** How many acquires this table has counted since it was made, for tests. */
    synchronized long acquires() {
        return acquires;
    }

    /** How many holds {@code peer} has on export {@code handle}, for tests. */
    synchronized long holds(long handle, WorkerId peer) {
        Holds h = holds.get(handle);
        return h == null ? 0 : h.remote.getOrDefault(peer, 0L);
    }

    /** True when {@code peer} holds the export {@code handle}, for tests. */
    synchronized boolean isHeldBy(long handle, WorkerId peer) {
        Holds h = holds.get(handle);
        return h != null && h.remote.containsKey(peer);
    }

    /** {@code peer} dropped its references: take back {@code counts[i]} holds of {@code handles[i]}. */
    synchronized void release(WorkerId peer, long[] handles, long[] counts) {
        for (int i = 0; i < handles.length; i++) {
            Holds h = holds.get(handles[i]);
            if (h == null) {
                continue;
            }
            long left = h.remote.getOrDefault(peer, 0L) - counts[i];
            if (left > 0) {
                h.remote.put(peer, left);
            } else {
                h.remote.remove(peer);
                collectIfFree(handles[i], h);
            }
        }
    }

    /** {@code peer} is gone: it holds nothing any more. */
    synchronized void dropHolder(WorkerId peer) {
        List<Long> touched = new ArrayList<>();
        for (var e : holds.entrySet()) {
            if (e.getValue().remote.remove(peer) != null) {
                touched.add(e.getKey());
            }
        }
        for (Long handle : touched) {
            collectIfFree(handle, holds.get(handle));
        }
    }

    private void collectIfFree(long handle, Holds h) {
        boolean localAlive = h.local != null && h.local.get() != null;
        if (!h.permanent && h.served == 0 && !localAlive && h.remote.isEmpty()) {
            holds.remove(handle);
            byHandle.remove(handle);
            byObject.remove(h.key);
        }
    }

    /**
     * How many exports other than services other runtimes hold now: the objects whose callers have nowhere
     * else to go when this runtime ends (a service's callers follow a hot swap's move). An object stored
     * in the durable store counts while another runtime holds it, as any other does: its stored reference
     * points here, and leads nowhere once this runtime has ended.
     */
    synchronized int heldRemotelyBesidesServices() {
        int n = 0;
        for (Holds h : holds.values()) {
            if (h.served == 0 && !h.remote.isEmpty()) {
                n++;
            }
        }
        return n;
    }

    /** True when some other runtime holds at least one export here. */
    synchronized boolean heldRemotely() {
        for (Holds h : holds.values()) {
            if (!h.remote.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    int size() {
        return byHandle.size();
    }
}
