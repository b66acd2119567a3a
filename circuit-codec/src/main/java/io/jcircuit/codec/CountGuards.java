package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.resolver.ClassResolver;
import org.apache.fory.serializer.ArraySerializers;
import org.apache.fory.serializer.Serializer;
import org.apache.fory.serializer.Serializers;
import org.apache.fory.serializer.collection.CollectionSerializer;
import org.apache.fory.serializer.collection.CollectionSerializers;
import org.apache.fory.serializer.collection.GuavaCollectionSerializers;
import org.apache.fory.serializer.collection.ImmutableCollectionSerializers;
import org.apache.fory.serializer.collection.MapSerializer;
import org.apache.fory.serializer.collection.MapSerializers;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Vector;
import java.util.function.IntFunction;

/**
 * Serializers that check an element count (or a name's byte count) read off the wire against the bytes left before sizing
 * anything by it. Fory 0.13's own serializers for arrays, the common collections and maps allocate by
 * the count first (a few bytes claiming 2<sup>31</sup> elements cost gigabytes before the read runs
 * out of input). Every element takes at least one byte on the wire (a ref or null flag, a header, or
 * the value itself), so a count larger than the bytes left cannot be sound.
 *
 * <p>Each replacement reads and writes exactly what the Fory serializer it replaces does: the wire
 * format does not change. Fory's collection and map serializers are mostly final, so the common ones
 * are re-implemented here (each is a count, a constructor and a ref registration); the others are
 * subclassed and checked before they read; arrays are wrapped.
 *
 * <p><b>Note:</b> covers the JDK types Fory registers by default, the Guava immutable collections and
 * maps it registers (Guava is Fory's own dependency), and arrays of any type. A collection or map
 * class outside that set is read by Fory's generic serializers, which do not pre-size.
 */
final class CountGuards {

    private CountGuards() {
    }

    /** Replaces the count-trusting serializers of {@code fory}. Call once, before its first use. */
    static void register(Fory fory) {
        ClassResolver r = fory.getClassResolver();
        registerArrays(fory, r);
        registerCollections(fory, r);
        registerMaps(fory, r);
        wrapGuava(fory, r);
        r.registerSerializer(Class.class, new CheckedClass(fory, new Serializers.ClassSerializer(fory)));
    }

    /** Reads an element count and checks that the bytes left could hold that many elements. */
    static int readCount(MemoryBuffer buffer, Class<?> type) {
        int n = buffer.readVarUint32Small7();
        if (n < 0 || n > buffer.remaining()) {
            throw new CodecException("a " + type.getTypeName() + " claims " + Integer.toUnsignedString(n)
                + " elements but only " + buffer.remaining() + " bytes remain");
        }
        return n;
    }

    private static void registerArrays(Fory fory, ClassResolver r) {
        // Object arrays write (count << 1 | final flag), then a ref flag at least per element;
        // primitive arrays write their byte count; String[] its count, then a byte at least each.
        r.registerSerializer(Object[].class, array(fory, Object[].class, new ArraySerializers.ObjectArraySerializer<>(fory, Object[].class), 1));
        r.registerSerializer(String[].class, array(fory, String[].class, new ArraySerializers.StringArraySerializer(fory), 0));
        r.registerSerializer(boolean[].class, array(fory, boolean[].class, new ArraySerializers.BooleanArraySerializer(fory), 0));
        r.registerSerializer(byte[].class, array(fory, byte[].class, new ArraySerializers.ByteArraySerializer(fory), 0));
        r.registerSerializer(char[].class, array(fory, char[].class, new ArraySerializers.CharArraySerializer(fory), 0));
        r.registerSerializer(short[].class, array(fory, short[].class, new ArraySerializers.ShortArraySerializer(fory), 0));
        r.registerSerializer(int[].class, array(fory, int[].class, new ArraySerializers.IntArraySerializer(fory), 0));
        r.registerSerializer(long[].class, array(fory, long[].class, new ArraySerializers.LongArraySerializer(fory), 0));
        r.registerSerializer(float[].class, array(fory, float[].class, new ArraySerializers.FloatArraySerializer(fory), 0));
        r.registerSerializer(double[].class, array(fory, double[].class, new ArraySerializers.DoubleArraySerializer(fory), 0));
        // Fory builds its own serializers of these when it starts (each under the id it registered the
        // class with), so the factory below never sees them. The serializer Fory built is wrapped and
        // set into the same registration (setSerializer, unlike registerSerializer, keeps the ClassInfo
        // and id): the bytes written stay Fory's. StackTraceElement[] is registered without a serializer
        // and so gets one from the factory.
        for (Class<?> c : PREBUILT_ARRAYS) {
            wrapPrebuilt(fory, r, c);
        }
        // Arrays of every other type get their serializer when first met, and so do the JDK's views
        // of maps and lists (ViewSerializers).
        r.setSerializerFactory((f, cls) -> cls.isArray() && !cls.getComponentType().isPrimitive()
            ? objectArray(f, cls) : ViewSerializers.create(f, cls));
    }

    /** The object arrays Fory 0.13 gives a serializer of its own up front ({@code ArraySerializers.registerDefaultSerializers}). */
    private static final List<Class<?>> PREBUILT_ARRAYS = List.of(Class[].class, Boolean[].class, Byte[].class,
        Character[].class, Short[].class, Integer[].class, Long[].class, Float[].class, Double[].class);

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void wrapPrebuilt(Fory fory, ClassResolver r, Class c) {
        Serializer prebuilt = r.getSerializer(c);
        if (!(prebuilt instanceof ArraySerializers.ObjectArraySerializer)) {
            throw new IllegalStateException("Fory's serializer of " + c.getTypeName() + " is a "
                + prebuilt.getClass().getName() + ", not the ObjectArraySerializer CountGuards wraps");
        }
        r.setSerializer(c, new CheckedArray(fory, c, prebuilt, 1));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Serializer<?> objectArray(Fory fory, Class<?> cls) {
        return array(fory, (Class) cls, new ArraySerializers.ObjectArraySerializer(fory, (Class) cls), 1);
    }

    private static <T> Serializer<T> array(Fory fory, Class<T> cls, Serializer<T> delegate, int shift) {
        return new CheckedArray<>(fory, cls, delegate, shift);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void registerCollections(Fory fory, ClassResolver r) {
        r.registerSerializer(ArrayList.class, new Checked<>(fory, ArrayList.class, ArrayList::new));
        r.registerSerializer(LinkedList.class, new Checked<>(fory, LinkedList.class, n -> new LinkedList()));
        r.registerSerializer(HashSet.class, new Checked<>(fory, HashSet.class, HashSet::new));
        r.registerSerializer(LinkedHashSet.class, new Checked<>(fory, LinkedHashSet.class, LinkedHashSet::new));
        r.registerSerializer(Vector.class, new Checked<>(fory, Vector.class, Vector::new));
        r.registerSerializer(ArrayDeque.class, new Checked<>(fory, ArrayDeque.class, ArrayDeque::new));
        r.registerSerializer(TreeSet.class, new CheckedSortedSet(fory, TreeSet.class));
        r.registerSerializer(PriorityQueue.class, new CheckedPriorityQueue(fory));
        for (Class<?> c : List.of(List.of(1).getClass(), List.of(1, 2, 3).getClass(), List.of(1, 2, 3).subList(0, 1).getClass())) {
            r.registerSerializer(c, new CheckedImmutableList(fory, c));
        }
        for (Class<?> c : List.of(Set.of(1).getClass(), Set.of(1, 2, 3).getClass())) {
            r.registerSerializer(c, new CheckedImmutableSet(fory, c));
        }
    }

    /**
     * Views of part of a list ({@code subList} of the JDK's lists) travel as the elements they show and
     * arrive as an {@link ArrayList}; a {@code ConcurrentHashMap}'s key set arrives as a {@link HashSet}. Left to Fory, such a view went field by field, its whole backing list
     * among them, and the copy failed its first use with a {@code ConcurrentModificationException}.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void registerListViews(Fory fory) {
        ClassResolver r = fory.getClassResolver();
        java.util.Set<Class<?>> views = new LinkedHashSet<>(List.of(
            new ArrayList<>(List.of(1)).subList(0, 1).getClass(),
            new LinkedList<>(List.of(1)).subList(0, 1).getClass(),
            java.util.Arrays.asList(1).subList(0, 1).getClass(),
            new java.util.concurrent.CopyOnWriteArrayList<>(List.of(1)).subList(0, 1).getClass()));
        for (Class<?> c : views) {
            r.registerSerializer(c, new Checked(fory, c, ArrayList::new));
        }
        // a ConcurrentHashMap's key set went as its fields, and its reader failed (a NullPointerException,
        // read as a malformed message, closed the link): it travels as a snapshot of the keys (its count
        // taken apart from them, keys added meanwhile broke the stream), and arrives as a HashSet
        Class<?> keys = new java.util.concurrent.ConcurrentHashMap<>(Map.of(1, 1)).keySet().getClass();
        r.registerSerializer(keys, (Serializer) ViewSerializers.concurrentKeys(fory, keys));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void registerMaps(Fory fory, ClassResolver r) {
        r.registerSerializer(HashMap.class, new CheckedMap<>(fory, HashMap.class, HashMap::new));
        r.registerSerializer(LinkedHashMap.class, new CheckedMap<>(fory, LinkedHashMap.class, LinkedHashMap::new));
        r.registerSerializer(TreeMap.class, new CheckedSortedMap(fory, TreeMap.class));
        for (Class<?> c : List.of(Map.of(1, 1).getClass(), Map.of(1, 1, 2, 2).getClass())) {
            r.registerSerializer(c, new CheckedImmutableMap(fory, c));
        }
    }

    /**
     * Fory registers serializers of its own for Guava's immutable collections and maps
     * ({@code GuavaCollectionSerializers.registerDefaultSerializers}: regular, singleton and empty
     * lists, sets, sorted sets, maps, bimaps and sorted maps, some under stand-in classes when the
     * Guava version lacks them). Each reads a count and sizes an array (or two) by it before reading
     * any element. They are final, so the serializer Fory built is wrapped by one that peeks at the
     * count first and hands every hook to it, and set into the same registration: the ClassInfo, the
     * id and the bytes written stay Fory's. The wrapper is a {@link CollectionSerializer} or
     * {@link MapSerializer} as the original is, since Fory's generated code casts to those and calls
     * their hooks ({@code newCollection}, {@code onCollectionRead} ...) directly.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void wrapGuava(Fory fory, ClassResolver r) {
        int wrapped = 0;
        for (Class<?> c : r.getRegisteredClasses()) {
            Serializer s = r.getSerializer(c, false);
            if (s == null || s.getClass().getEnclosingClass() != GuavaCollectionSerializers.class) {
                continue;
            }
            if (s instanceof CollectionSerializer col) {
                r.setSerializer(c, new CheckedGuavaCollection(fory, c, col));
            } else if (s instanceof MapSerializer map) {
                r.setSerializer(c, new CheckedGuavaMap(fory, c, map));
            } else {
                throw new IllegalStateException("Fory's serializer of " + c.getName() + " is a " + s.getClass().getName()
                    + ", neither the CollectionSerializer nor the MapSerializer CountGuards wraps");
            }
            wrapped++;
        }
        if (wrapped == 0) {
            throw new IllegalStateException("found none of the Guava serializers Fory registers: has Fory changed?");
        }
    }

    /** Peeks at the count a Fory serializer is about to read and refuses one the input cannot hold. */
    private static void peekCount(MemoryBuffer buffer, int shift, Class<?> type) {
        WireReads.checkCount(buffer, shift, 1, type);
    }

    /** An array serializer of Fory's, checked before it reads. */
    private static final class CheckedArray<T> extends Serializer<T> {
        private final Serializer<T> delegate;
        private final int shift;

        CheckedArray(Fory fory, Class<T> cls, Serializer<T> delegate, int shift) {
            super(fory, cls, delegate.needToWriteRef(), delegate.isImmutable());
            this.delegate = delegate;
            this.shift = shift;
        }

        @Override
        public void write(MemoryBuffer buffer, T value) {
            delegate.write(buffer, value);
        }

        @Override
        public T read(MemoryBuffer buffer) {
            peekCount(buffer, shift, type);
            return delegate.read(buffer);
        }

        @Override
        public T copy(T value) {
            return delegate.copy(value);
        }

        @Override
        public void xwrite(MemoryBuffer buffer, T value) {
            delegate.xwrite(buffer, value);
        }

        @Override
        public T xread(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return delegate.xread(buffer);
        }
    }

    /** As Fory's ArrayListSerializer, HashSetSerializer and the like: a count, then a pre-sized collection. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class Checked<T extends Collection> extends CollectionSerializer<T> {
        private final IntFunction<T> make;

        Checked(Fory fory, Class<T> cls, IntFunction<T> make) {
            super(fory, cls, true);
            this.make = make;
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            int n = readCount(buffer, type);
            setNumElements(n);
            T c = make.apply(n);
            fory.getRefResolver().reference(c);
            return c;
        }

        @Override
        public Collection newCollection(Collection collection) {
            return make.apply(collection.size());
        }
    }

    /** As Fory's HashMapSerializer and LinkedHashMapSerializer. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class CheckedMap<T extends Map> extends MapSerializer<T> {
        private final IntFunction<T> make;

        CheckedMap(Fory fory, Class<T> cls, IntFunction<T> make) {
            super(fory, cls, true);
            this.make = make;
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            int n = readCount(buffer, type);
            setNumElements(n);
            T m = make.apply(n);
            fory.getRefResolver().reference(m);
            return m;
        }

        @Override
        public Map newMap(Map map) {
            return make.apply(map.size());
        }
    }

    /** Fory's TreeSet serializer (count, comparator, elements), checked before it reads. */
    private static final class CheckedSortedSet extends CollectionSerializers.SortedSetSerializer<TreeSet> {
        CheckedSortedSet(Fory fory, Class<TreeSet> cls) {
            super(fory, cls);
        }

        @Override
        public TreeSet newCollection(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return super.newCollection(buffer);
        }
    }

    private static final class CheckedPriorityQueue extends CollectionSerializers.PriorityQueueSerializer {
        CheckedPriorityQueue(Fory fory) {
            super(fory, PriorityQueue.class);
        }

        @Override
        public PriorityQueue newCollection(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return super.newCollection(buffer);
        }
    }

    /** Fory's serializer of {@code List.of(...)} lists, which collects into an array sized by the count. */
    private static final class CheckedImmutableList extends ImmutableCollectionSerializers.ImmutableListSerializer {
        CheckedImmutableList(Fory fory, Class<?> cls) {
            super(fory, cls);
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return super.newCollection(buffer);
        }
    }

    private static final class CheckedImmutableSet extends ImmutableCollectionSerializers.ImmutableSetSerializer {
        CheckedImmutableSet(Fory fory, Class<?> cls) {
            super(fory, cls);
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return super.newCollection(buffer);
        }
    }

    private static final class CheckedImmutableMap extends ImmutableCollectionSerializers.ImmutableMapSerializer {
        CheckedImmutableMap(Fory fory, Class<?> cls) {
            super(fory, cls);
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return super.newMap(buffer);
        }
    }

    private static final class CheckedSortedMap extends MapSerializers.SortedMapSerializer<TreeMap> {
        CheckedSortedMap(Fory fory, Class<TreeMap> cls) {
            super(fory, cls);
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return super.newMap(buffer);
        }
    }

    /**
     * One of Fory's Guava collection serializers (all read the count first: {@code newCollection}),
     * checked before it reads. Every hook goes to it; the count it read is carried over, as the
     * caller asks this serializer for it ({@code getAndClearNumElements}).
     */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class CheckedGuavaCollection extends CollectionSerializer {
        private final CollectionSerializer delegate;

        CheckedGuavaCollection(Fory fory, Class cls, CollectionSerializer delegate) {
            super(fory, cls, delegate.supportCodegenHook(), delegate.isImmutable());
            this.delegate = delegate;
        }

        @Override
        public Collection onCollectionWrite(MemoryBuffer buffer, Collection value) {
            return delegate.onCollectionWrite(buffer, value);
        }

        @Override
        public void onCollectionWriteFinish(Collection collection) {
            delegate.onCollectionWriteFinish(collection);
        }

        @Override
        public Collection newCollection(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            Collection c = delegate.newCollection(buffer);
            setNumElements(delegate.getAndClearNumElements());
            return c;
        }

        @Override
        public Collection onCollectionRead(Collection collection) {
            return delegate.onCollectionRead(collection);
        }

        @Override
        public Collection newCollection(Collection collection) {
            Collection c = delegate.newCollection(collection);
            setNumElements(delegate.getAndClearNumElements());
            return c;
        }

        @Override
        public Collection copy(Collection value) {
            return delegate.copy(value);
        }

        @Override
        public Collection xread(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return (Collection) delegate.xread(buffer);
        }
    }

    /** One of Fory's Guava map serializers (all read the count first: {@code newMap}), checked before it reads. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class CheckedGuavaMap extends MapSerializer {
        private final MapSerializer delegate;

        CheckedGuavaMap(Fory fory, Class cls, MapSerializer delegate) {
            super(fory, cls, delegate.supportCodegenHook(), delegate.isImmutable());
            this.delegate = delegate;
        }

        @Override
        public Map onMapWrite(MemoryBuffer buffer, Map value) {
            return delegate.onMapWrite(buffer, value);
        }

        @Override
        public void onMapWriteFinish(Map map) {
            delegate.onMapWriteFinish(map);
        }

        @Override
        public Map newMap(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            Map m = delegate.newMap(buffer);
            setNumElements(delegate.getAndClearNumElements());
            return m;
        }

        @Override
        public Map onMapRead(Map map) {
            return delegate.onMapRead(map);
        }

        @Override
        public Map newMap(Map map) {
            Map m = delegate.newMap(map);
            setNumElements(delegate.getAndClearNumElements());
            return m;
        }

        @Override
        public Map onMapCopy(Map map) {
            return delegate.onMapCopy(map);
        }

        @Override
        public Map copy(Map value) {
            return delegate.copy(value);
        }

        @Override
        public Map xread(MemoryBuffer buffer) {
            peekCount(buffer, 0, type);
            return (Map) delegate.xread(buffer);
        }
    }

    /**
     * Fory's serializer of {@link Class} values (lambdas carry their capturing class as one), checked
     * before it reads: Fory reads a class name's bytes into an array sized by the name's header. The
     * layout, as {@code ClassResolver.readClassInternal} reads it:
     * <pre>
     *  | header (varuint; bit 0 clear: registered id &lt;&lt; 1) |
     *  | package: header continued (len &lt;&lt; 2 | reference bit &lt;&lt; 1 | 1) | name bytes |
     *  | type name: (len &lt;&lt; 1 | reference bit) (varuint) | name bytes |
     *  name bytes (none for a reference): len &gt; 16: hash (8) + len bytes; otherwise encoding (1) + len bytes
     * </pre>
     */
    @SuppressWarnings("rawtypes")
    private static final class CheckedClass extends Serializer<Class> {
        private static final int SMALL_NAME = 16;
        private final Serializer<Class> delegate;

        CheckedClass(Fory fory, Serializer<Class> delegate) {
            super(fory, Class.class, delegate.needToWriteRef(), delegate.isImmutable());
            this.delegate = delegate;
        }

        @Override
        public void write(MemoryBuffer buffer, Class value) {
            delegate.write(buffer, value);
        }

        @Override
        public Class read(MemoryBuffer buffer) {
            checkName(buffer);
            return delegate.read(buffer);
        }

        @Override
        public Class copy(Class value) {
            return value;
        }

        /** Walks the name's headers by index, without moving the reader index; allocates nothing. */
        private static void checkName(MemoryBuffer buffer) {
            int pos = buffer.readerIndex();
            long header = varuint(buffer, pos);
            pos += varuintLength(buffer, pos);
            if ((header & 1) == 0) {
                return; // a registered class, by id
            }
            if ((header & 0b10) == 0) {
                pos = skipNameBytes(buffer, pos, header >>> 2);
            }
            long typeHeader = varuint(buffer, pos);
            pos += varuintLength(buffer, pos);
            if ((typeHeader & 1) == 0) {
                skipNameBytes(buffer, pos, typeHeader >>> 1);
            }
        }

        /** The index just past a name's bytes at {@code pos}. */
        private static int skipNameBytes(MemoryBuffer buffer, int pos, long length) {
            long need = (length > SMALL_NAME ? 8 : 1) + length;
            if (need > buffer.size() - pos) {
                throw new CodecException("a class name claims " + length + " bytes but " + (buffer.size() - pos) + " remain");
            }
            return pos + (int) need;
        }

        /** The unsigned varint of up to 32 bits at {@code pos}. */
        private static long varuint(MemoryBuffer buffer, int pos) {
            long value = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                if (pos >= buffer.size()) {
                    throw new CodecException("a class name ends early");
                }
                int b = buffer.getByte(pos++);
                value |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return value & 0xffffffffL;
                }
            }
            throw new CodecException("overlong varint in a class name");
        }

        /** The byte length of the varint at {@code pos}, which {@link #varuint} has read. */
        private static int varuintLength(MemoryBuffer buffer, int pos) {
            int n = 1;
            while ((buffer.getByte(pos + n - 1) & 0x80) != 0) {
                n++;
            }
            return n;
        }
    }
}
