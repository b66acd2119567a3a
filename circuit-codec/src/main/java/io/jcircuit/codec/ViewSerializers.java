package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.serializer.Serializer;
import org.apache.fory.serializer.collection.CollectionSerializer;
import org.apache.fory.serializer.collection.MapSerializer;

import java.time.DayOfWeek;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The JDK's views of maps and lists travel as what they show, and arrive as a plain collection of it:
 *
 * <ul>
 *   <li>{@code keySet()} and {@code entrySet()} of the JDK's maps as a {@link LinkedHashSet} (in the
 *       order the sender saw; a {@code ConcurrentHashMap}'s key set as a {@link java.util.HashSet},
 *       as before), and the key sets of sorted maps as a {@link TreeSet} with the map's comparator;</li>
 *   <li>{@code values()}, and {@code reversed()} lists, as an {@link ArrayList};</li>
 *   <li>{@code headMap}, {@code tailMap}, {@code subMap} and {@code descendingMap} of a {@link TreeMap}
 *       or {@link ConcurrentSkipListMap} as a {@link TreeMap} with the view's comparator, and a
 *       {@code LinkedHashMap}'s {@code reversed()} as a {@link LinkedHashMap};</li>
 *   <li>a map's entries as {@link AbstractMap.SimpleImmutableEntry}, and {@code Map.entry(k, v)},
 *       {@link AbstractMap.SimpleImmutableEntry} and {@link AbstractMap.SimpleEntry} as themselves.</li>
 * </ul>
 *
 * <p>Left to Fory, most of these could not be written at all ("doesn't support serialization"), and
 * the others went field by field with their whole backing map: a {@code headMap} arrived as a view
 * of a copy of all of it, and refused a {@code put} of its own keys as "key out of range". Each is
 * written from a snapshot of its elements ({@code toArray}, or a copy made entry by entry), so a
 * concurrent map that changes meanwhile cannot make the count and the elements disagree. The JDK's plain
 * entries, the usual way to return a pair, Fory could write, but with a serializer it generated and compiled
 * (with Janino) in every JVM, for each class and each direction: 0.3 s of a cold worker's CPU when the demo's
 * reducers answered their top words (docs/performance.md).
 *
 * <p>An entry's key and value, and a sorted view's comparator, are read before the entry or the
 * collection exists: a reference back to it from inside them arrives as null. An entry that holds
 * itself directly is refused when sent; one that reaches itself through other objects is not seen.
 */
final class ViewSerializers {

    private ViewSerializers() {
    }

    /** How a view class is serialized: its serializer is built for a Fory instance when first met. */
    private enum Kind {
        /** Read into a {@link LinkedHashSet}. */
        SET,
        /** Read into a {@link TreeSet} with the view's comparator. */
        SORTED_SET,
        /** Read into an {@link ArrayList}. */
        LIST,
        /** Read into a {@link TreeMap} with the view's comparator. */
        SORTED_MAP,
        /** Read into a {@link LinkedHashMap}. */
        LINKED_MAP,
        /** Read as an {@link AbstractMap.SimpleImmutableEntry}. */
        ENTRY,
        /** Read as {@code Map.entry(k, v)}. */
        MAP_ENTRY,
        /** Read as an {@link AbstractMap.SimpleEntry}. */
        SIMPLE_ENTRY;

        Serializer<?> make(Fory fory, Class<?> cls) {
            return switch (this) {
                case SET, LIST, SORTED_SET -> new Snapshot(fory, cls, this);
                case SORTED_MAP, LINKED_MAP -> new MapSnapshot(fory, cls, this);
                case ENTRY, MAP_ENTRY, SIMPLE_ENTRY -> new Entry(fory, cls, this);
            };
        }
    }

    /**
     * The view classes and their kinds: immutable facts about the JDK, shared by every runtime in the
     * JVM, worked out when a Fory instance first meets a class it has no serializer for.
     */
    private static final class Table {
        static final Map<Class<?>, Kind> KINDS = kinds();
    }

    private static Map<Class<?>, Kind> kinds() {
        Map<String, Integer> sample = Map.of("a", 1, "b", 2);
        HashMap<String, Integer> hash = new HashMap<>(sample);
        LinkedHashMap<String, Integer> linked = new LinkedHashMap<>(sample);
        TreeMap<String, Integer> tree = new TreeMap<>(sample);
        ConcurrentSkipListMap<String, Integer> skip = new ConcurrentSkipListMap<>(sample);
        ConcurrentHashMap<String, Integer> concurrent = new ConcurrentHashMap<>(sample);
        EnumMap<DayOfWeek, Integer> enums = new EnumMap<>(Map.of(DayOfWeek.MONDAY, 1));
        // the key set and values that AbstractMap gives a map of an application's own that keeps them
        Map<String, Integer> own = new AbstractMap<>() {
            @Override
            public java.util.Set<Map.Entry<String, Integer>> entrySet() {
                return sample.entrySet();
            }
        };
        Map<Class<?>, Kind> kinds = new HashMap<>();
        put(kinds, Kind.SET, hash.keySet(), hash.entrySet(), linked.keySet(), linked.entrySet(),
            tree.entrySet(), tree.headMap("b").entrySet(), tree.descendingMap().entrySet(),
            skip.entrySet(), skip.headMap("b").entrySet(), concurrent.entrySet(), enums.keySet(), enums.entrySet(),
            own.keySet());
        put(kinds, Kind.SORTED_SET, tree.keySet(), tree.headMap("b").keySet(), tree.descendingKeySet(),
            skip.keySet(), skip.headMap("b").keySet(), skip.descendingKeySet());
        put(kinds, Kind.LIST, hash.values(), linked.values(), tree.values(), tree.headMap("b").values(),
            tree.descendingMap().values(), skip.values(), skip.headMap("b").values(), concurrent.values(),
            enums.values(), own.values(), new ArrayList<>(List.of(1)).reversed(), new LinkedList<>(List.of(1)).reversed(),
            List.of(1).reversed(), Arrays.asList(1).reversed());
        put(kinds, Kind.SORTED_MAP, tree.headMap("b"), tree.descendingMap(), skip.headMap("b"), skip.descendingMap());
        put(kinds, Kind.LINKED_MAP, linked.reversed());
        put(kinds, Kind.ENTRY, hash.entrySet().iterator().next(), linked.entrySet().iterator().next(),
            tree.entrySet().iterator().next(), skip.entrySet().iterator().next(),
            concurrent.entrySet().iterator().next(), enums.entrySet().iterator().next());
        put(kinds, Kind.MAP_ENTRY, Map.entry("a", 1));
        put(kinds, Kind.ENTRY, new AbstractMap.SimpleImmutableEntry<>("a", 1));
        put(kinds, Kind.SIMPLE_ENTRY, new AbstractMap.SimpleEntry<>("a", 1));
        // a HashMap's entries in a bucket of many colliding keys (a LinkedHashMap's too)
        try {
            kinds.put(Class.forName("java.util.HashMap$TreeNode"), Kind.ENTRY);
        } catch (ClassNotFoundException notInThisJdk) {
            // its entries are all of the kinds above
        }
        return Map.copyOf(kinds);
    }

    /**
     * The serializer of the view class {@code cls} for {@code fory}, or null when it is not one of
     * these views. For {@code ClassResolver.setSerializerFactory}: the classes stay unregistered (they
     * travel by name), so the ids of registered classes do not change, and builds that differ only in
     * this class still read each other's calls.
     */
    static Serializer<?> create(Fory fory, Class<?> cls) {
        if (cls.getClassLoader() != null || !cls.getName().startsWith("java.util.")) {
            return null; // an application's classes do not make the table be worked out
        }
        Kind kind = Table.KINDS.get(cls);
        return kind == null ? null : kind.make(fory, cls);
    }

    /**
     * The serializer of a {@code ConcurrentHashMap}'s key set, which {@link CountGuards} registers: a
     * {@link java.util.HashSet} of a snapshot of the keys.
     */
    static Serializer<?> concurrentKeys(Fory fory, Class<?> cls) {
        return new Snapshot(fory, cls, null);
    }

    /** Files the classes of {@code samples} under {@code kind}. */
    private static void put(Map<Class<?>, Kind> kinds, Kind kind, Object... samples) {
        for (Object s : samples) {
            kinds.put(s.getClass(), kind); // a ConcurrentSkipListMap's entries are SimpleImmutableEntry: ENTRY either way
        }
    }

    /**
     * A view written as a snapshot: its count, for {@link Kind#SORTED_SET} its comparator, then its
     * elements; read into a {@link LinkedHashSet} ({@link Kind#SET}), an {@link ArrayList}
     * ({@link Kind#LIST}), a {@link TreeSet} ({@link Kind#SORTED_SET}) or, for null, a
     * {@link java.util.HashSet}.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class Snapshot extends CollectionSerializer {
        private final Kind kind;

        Snapshot(Fory fory, Class cls, Kind kind) {
            super(fory, cls, true);
            this.kind = kind;
        }

        @Override
        public Collection onCollectionWrite(MemoryBuffer buffer, Collection value) {
            List<Object> elements = Arrays.asList(value.toArray());
            buffer.writeVarUint32Small7(elements.size());
            if (kind == Kind.SORTED_SET) {
                fory.writeRef(buffer, ((SortedSet) value).comparator());
            }
            return elements;
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            int n = CountGuards.readCount(buffer, type);
            setNumElements(n);
            Collection c = kind == Kind.SORTED_SET ? new TreeSet((Comparator) fory.readRef(buffer)) : make(n);
            fory.getRefResolver().reference(c);
            return c;
        }

        @Override
        public Collection newCollection(Collection collection) {
            return kind == Kind.SORTED_SET ? new TreeSet(((SortedSet) collection).comparator()) : make(collection.size());
        }

        private Collection make(int n) {
            return kind == Kind.LIST ? new ArrayList(n) : kind == Kind.SET ? new LinkedHashSet(n) : new java.util.HashSet(n);
        }
    }

    /**
     * A map view written as a copy: its count, for {@link Kind#SORTED_MAP} its comparator, then its
     * entries; read into a {@link TreeMap} ({@link Kind#SORTED_MAP}) or a {@link LinkedHashMap}.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class MapSnapshot extends MapSerializer {
        private final boolean sorted;

        MapSnapshot(Fory fory, Class<?> cls, Kind kind) {
            super(fory, cls, true);
            this.sorted = kind == Kind.SORTED_MAP;
        }

        @Override
        public Map onMapWrite(MemoryBuffer buffer, Object value) {
            // entry by entry: new TreeMap(sortedMap) takes size() first and then that many entries, and
            // a concurrent map's view that shrank meanwhile ran out (NoSuchElementException)
            Map copy = sorted ? new TreeMap(((SortedMap) value).comparator()) : new LinkedHashMap();
            for (Object o : ((Map) value).entrySet()) {
                Map.Entry e = (Map.Entry) o;
                copy.put(e.getKey(), e.getValue());
            }
            buffer.writeVarUint32Small7(copy.size());
            if (sorted) {
                fory.writeRef(buffer, ((TreeMap) copy).comparator());
            }
            return copy;
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            int n = CountGuards.readCount(buffer, type);
            setNumElements(n);
            Map map = sorted ? new TreeMap((Comparator) fory.readRef(buffer)) : new LinkedHashMap(n);
            fory.getRefResolver().reference(map);
            return map;
        }

        @Override
        public Map newMap(Map map) {
            return sorted ? new TreeMap(((SortedMap) map).comparator()) : new LinkedHashMap(map.size());
        }
    }

    /**
     * A map's entry: its key and value. It arrives as a {@link AbstractMap.SimpleImmutableEntry}, or as
     * {@code Map.entry(k, v)} or an {@link AbstractMap.SimpleEntry} when it was one.
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class Entry extends Serializer<Map.Entry> {
        private final Kind kind;

        Entry(Fory fory, Class cls, Kind kind) {
            super(fory, cls);
            this.kind = kind;
        }

        @Override
        public void write(MemoryBuffer buffer, Map.Entry value) {
            if (value.getKey() == value || value.getValue() == value) {
                // read, it would hold null there: its key and value are read before it exists
                throw new CodecException("a map entry whose key or value is the entry itself cannot be sent");
            }
            fory.writeRef(buffer, value.getKey());
            fory.writeRef(buffer, value.getValue());
        }

        @Override
        public Map.Entry read(MemoryBuffer buffer) {
            Object key = fory.readRef(buffer);
            Object value = fory.readRef(buffer);
            if (kind == Kind.MAP_ENTRY) {
                if (key == null || value == null) {
                    throw new CodecException("a Map.entry arrived with a null " + (key == null ? "key" : "value"));
                }
                return Map.entry(key, value);
            }
            return kind == Kind.SIMPLE_ENTRY ? new AbstractMap.SimpleEntry(key, value) : new AbstractMap.SimpleImmutableEntry(key, value);
        }
    }
}
