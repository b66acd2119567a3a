package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.serializer.Serializer;

import java.util.AbstractMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The JDK's own map entries ({@code Map.entry}, {@link AbstractMap.SimpleImmutableEntry} and
 * {@link AbstractMap.SimpleEntry}), the usual way to return a pair, as their key and then their value, each
 * written as Fory writes any value. Fory has no serializer of its own for them: it generated and compiled one
 * (with Janino) in every JVM that wrote or read an entry, for each class and each direction, 0.3 s of a cold
 * worker's CPU when the demo's reducers answered their top words (docs/performance.md).
 */
final class EntrySerializers {

    private EntrySerializers() {
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    static void register(Fory fory) {
        Class immutable = AbstractMap.SimpleImmutableEntry.class;
        Class mutable = AbstractMap.SimpleEntry.class;
        Class holder = Map.entry("", "").getClass(); // java.util.KeyValueHolder, not public
        fory.registerSerializer(immutable, f -> new EntrySerializer<>(f, immutable, AbstractMap.SimpleImmutableEntry::new));
        fory.registerSerializer(mutable, f -> new EntrySerializer<>(f, mutable, AbstractMap.SimpleEntry::new));
        fory.registerSerializer(holder, f -> new EntrySerializer<>(f, holder, Map::entry));
    }

    private static final class EntrySerializer<T extends Map.Entry<Object, Object>> extends Serializer<T> {
        private final BiFunction<Object, Object, T> make;

        EntrySerializer(Fory fory, Class<T> type, BiFunction<Object, Object, T> make) {
            super(fory, type);
            this.make = make;
        }

        @Override
        public void write(MemoryBuffer buffer, T value) {
            fory.writeRef(buffer, value.getKey());
            fory.writeRef(buffer, value.getValue());
        }

        @Override
        public T read(MemoryBuffer buffer) {
            Object key = fory.readRef(buffer);
            Object value = fory.readRef(buffer);
            try {
                return make.apply(key, value);
            } catch (NullPointerException e) { // Map.entry's: neither may be null
                throw new CodecException("a " + type.getSimpleName() + " with a null " + (key == null ? "key" : "value"));
            }
        }
    }
}
