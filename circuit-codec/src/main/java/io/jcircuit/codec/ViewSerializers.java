package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.resolver.ClassResolver;
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
import java.util.function.IntFunction;

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
 *   <li>a map's entries as {@link AbstractMap.SimpleImmutableEntry}, and {@code Map.entry(k, v)} as
 *       itself.</li>
 * </ul>
 *
 * <p>Left to Fory, most of these could not be written at all ("doesn't support serialization"), and
 * the others went field by field with their whole backing map: a {@code headMap} arrived as a view
 * of a copy of all of it, and refused a {@code put} of its own keys as "key out of range". Each is
 * written from a snapshot of its elements ({@code toArray}, or a copy), so a concurrent map that
 * changes meanwhile cannot make the count and the elements disagree.
 */
final class ViewSerializers {

    private ViewSerializers() {
    }

    /**
     * Registers the serializers. Call after every other registration, so that the ids registered
     * before stay as they were.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void register(Fory fory) {
        ClassResolver r = fory.getClassResolver();
        Map<String, Integer> sample = Map.of("a", 1, "b", 2);
        HashMap<String, Integer> hash = new HashMap<>(sample);
        LinkedHashMap<String, Integer> linked = new LinkedHashMap<>(sample);
        TreeMap<String, Integer> tree = new TreeMap<>(sample);
        ConcurrentSkipListMap<String, Integer> skip = new ConcurrentSkipListMap<>(sample);
        ConcurrentHashMap<String, Integer> concurrent = new ConcurrentHashMap<>(sample);
        EnumMap<DayOfWeek, Integer> enums = new EnumMap<>(Map.of(DayOfWeek.MONDAY, 1));

        for (Class<?> c : classesOf(hash.keySet(), hash.entrySet(), linked.keySet(), linked.entrySet(),
            tree.entrySet(), tree.headMap("b").entrySet(), tree.descendingMap().entrySet(),
            skip.entrySet(), skip.headMap("b").entrySet(), concurrent.entrySet(), enums.keySet(), enums.entrySet())) {
            r.registerSerializer(c, new Snapshot(fory, c, LinkedHashSet::new));
        }
        // registered before as a HashSet of the keys (CountGuards.registerListViews), with the count
        // taken apart from the elements: keys added or removed in between broke the stream
        Class<?> concurrentKeys = concurrent.keySet().getClass();
        r.registerSerializer(concurrentKeys, new Snapshot(fory, concurrentKeys, java.util.HashSet::new));
        for (Class<?> c : classesOf(tree.keySet(), tree.headMap("b").keySet(), tree.descendingKeySet(),
            skip.keySet(), skip.headMap("b").keySet(), skip.descendingKeySet())) {
            r.registerSerializer(c, new SortedSetSnapshot(fory, c));
        }
        for (Class<?> c : classesOf(hash.values(), linked.values(), tree.values(), tree.headMap("b").values(),
            tree.descendingMap().values(), skip.values(), skip.headMap("b").values(), concurrent.values(),
            enums.values(), new ArrayList<>(List.of(1)).reversed(), new LinkedList<>(List.of(1)).reversed(),
            List.of(1).reversed(), Arrays.asList(1).reversed())) {
            r.registerSerializer(c, new Snapshot(fory, c, ArrayList::new));
        }
        for (Class<?> c : classesOf(tree.headMap("b"), tree.descendingMap(), skip.headMap("b"), skip.descendingMap())) {
            r.registerSerializer(c, new SortedMapSnapshot(fory, c));
        }
        Class<?> reversedLinked = linked.reversed().getClass();
        r.registerSerializer(reversedLinked, new MapSnapshot(fory, reversedLinked, LinkedHashMap::new));

        for (Class<?> c : classesOf(hash.entrySet().iterator().next(), linked.entrySet().iterator().next(),
            tree.entrySet().iterator().next(), skip.entrySet().iterator().next(),
            concurrent.entrySet().iterator().next(), enums.entrySet().iterator().next())) {
            r.registerSerializer(c, new Entry(fory, c, false));
        }
        Class<?> holder = Map.entry("a", 1).getClass();
        r.registerSerializer(holder, new Entry(fory, holder, true));
    }

    /** The distinct classes of {@code samples}, skipping those Fory already serializes as a whole. */
    private static List<Class<?>> classesOf(Object... samples) {
        LinkedHashSet<Class<?>> classes = new LinkedHashSet<>();
        for (Object s : samples) {
            classes.add(s.getClass());
        }
        // TreeMap.firstEntry() and the like are already plain entries
        classes.remove(AbstractMap.SimpleImmutableEntry.class);
        classes.remove(AbstractMap.SimpleEntry.class);
        return new ArrayList<>(classes);
    }

    /** A view written as a snapshot of its elements, read into the collection {@code make} gives. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class Snapshot extends CollectionSerializer {
        private final IntFunction<Collection> make;

        Snapshot(Fory fory, Class cls, IntFunction<Collection> make) {
            super(fory, cls, true);
            this.make = make;
        }

        @Override
        public Collection onCollectionWrite(MemoryBuffer buffer, Collection value) {
            List<Object> elements = Arrays.asList(value.toArray());
            buffer.writeVarUint32Small7(elements.size());
            return elements;
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            int n = CountGuards.readCount(buffer, type);
            setNumElements(n);
            Collection c = make.apply(n);
            fory.getRefResolver().reference(c);
            return c;
        }

        @Override
        public Collection newCollection(Collection collection) {
            return make.apply(collection.size());
        }
    }

    /** A sorted set view: its count, its comparator, then its elements, read into a {@link TreeSet}. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class SortedSetSnapshot extends CollectionSerializer {
        SortedSetSnapshot(Fory fory, Class cls) {
            super(fory, cls, true);
        }

        @Override
        public Collection onCollectionWrite(MemoryBuffer buffer, Collection value) {
            List<Object> elements = Arrays.asList(value.toArray());
            buffer.writeVarUint32Small7(elements.size());
            fory.writeRef(buffer, ((SortedSet) value).comparator());
            return elements;
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            setNumElements(CountGuards.readCount(buffer, type));
            TreeSet set = new TreeSet((Comparator) fory.readRef(buffer));
            fory.getRefResolver().reference(set);
            return set;
        }

        @Override
        public Collection newCollection(Collection collection) {
            return new TreeSet(((SortedSet) collection).comparator());
        }
    }

    /** A sorted map view: its count, its comparator, then its entries, read into a {@link TreeMap}. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class SortedMapSnapshot extends MapSerializer {
        SortedMapSnapshot(Fory fory, Class cls) {
            super(fory, cls, true);
        }

        @Override
        public Map onMapWrite(MemoryBuffer buffer, Object value) {
            TreeMap copy = new TreeMap((SortedMap) value);
            buffer.writeVarUint32Small7(copy.size());
            fory.writeRef(buffer, copy.comparator());
            return copy;
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            setNumElements(CountGuards.readCount(buffer, type));
            TreeMap map = new TreeMap((Comparator) fory.readRef(buffer));
            fory.getRefResolver().reference(map);
            return map;
        }

        @Override
        public Map newMap(Map map) {
            return new TreeMap(((SortedMap) map).comparator());
        }
    }

    /** A map view written as a copy of its entries, read into the map {@code make} gives. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class MapSnapshot extends MapSerializer {
        private final IntFunction<Map> make;

        MapSnapshot(Fory fory, Class cls, IntFunction<Map> make) {
            super(fory, cls, true);
            this.make = make;
        }

        @Override
        public Map onMapWrite(MemoryBuffer buffer, Object value) {
            Map copy = new LinkedHashMap((Map) value);
            buffer.writeVarUint32Small7(copy.size());
            return copy;
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            int n = CountGuards.readCount(buffer, type);
            setNumElements(n);
            Map map = make.apply(n);
            fory.getRefResolver().reference(map);
            return map;
        }

        @Override
        public Map newMap(Map map) {
            return make.apply(map.size());
        }
    }

    /**
     * A map's entry: its key and value. It arrives as a {@link AbstractMap.SimpleImmutableEntry}, or as
     * {@code Map.entry(k, v)} when it was one ({@code ofMapEntry}).
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class Entry extends Serializer<Map.Entry> {
        private final boolean ofMapEntry;

        Entry(Fory fory, Class cls, boolean ofMapEntry) {
            super(fory, cls);
            this.ofMapEntry = ofMapEntry;
        }

        @Override
        public void write(MemoryBuffer buffer, Map.Entry value) {
            fory.writeRef(buffer, value.getKey());
            fory.writeRef(buffer, value.getValue());
        }

        @Override
        public Map.Entry read(MemoryBuffer buffer) {
            Object key = fory.readRef(buffer);
            Object value = fory.readRef(buffer);
            if (ofMapEntry) {
                if (key == null || value == null) {
                    throw new CodecException("a Map.entry arrived with a null " + (key == null ? "key" : "value"));
                }
                return Map.entry(key, value);
            }
            return new AbstractMap.SimpleImmutableEntry(key, value);
        }
    }
}
