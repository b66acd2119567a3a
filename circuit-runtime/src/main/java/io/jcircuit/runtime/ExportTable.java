package io.jcircuit.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * The objects this runtime exports, by handle. Exporting the same object as the same interface twice
 * yields the same handle, so references to it compare equal everywhere.
 *
 * <p>Exports are held strongly for now: distributed collection (releases from importers) arrives
 * with the hosts and spawn work.
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

    private final ConcurrentHashMap<Long, Export> byHandle = new ConcurrentHashMap<>();
    private final Map<Key, Export> byObject = new HashMap<>();
    private long nextHandle = 1;

    /** Exports {@code impl} as {@code iface}, or returns its existing export. */
    synchronized Export export(Class<?> iface, Object impl, LongFunction<Object> proxyFor) {
        Key key = new Key(impl, iface);
        Export e = byObject.get(key);
        if (e == null) {
            long handle = nextHandle++;
            e = Export.of(handle, iface, impl, proxyFor.apply(handle));
            byObject.put(key, e);
            byHandle.put(handle, e);
        }
        return e;
    }

    /** The export under {@code handle}, or {@code null}. Lock-free. */
    Export get(long handle) {
        return byHandle.get(handle);
    }

    int size() {
        return byHandle.size();
    }
}
