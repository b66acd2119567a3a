package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.Chan;
import io.jcircuit.ChanCore;
import io.jcircuit.WorkerId;
import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.serializer.Serializer;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.List;

/**
 * Serializers for JCircuit's own values, written without Fory generating code for them. For any
 * other class Fory generates and compiles a serializer (with Janino) the first time a JVM writes or
 * reads it, tens of milliseconds each in a cold JVM, and a spawn met about a dozen of them on the spawner's and
 * the new worker's paths: worker ids, addresses, the spawn request and its answer, channels.
 *
 * <p>The runtime names its own protocol records ({@link MessageCodec#MessageCodec(ClassLoader,
 * References, Collection)}); they are written component by component, each component as Fory writes
 * any value, so a record inside them (a list of jar references) is written the same way.
 */
final class ProtocolSerializers {

    /** The API's records that runtimes exchange among themselves; their constructors check what is read. */
    private static final List<Class<? extends Record>> API_RECORDS = List.of(WorkerId.class, Address.class);

    private ProtocolSerializers() {
    }

    static void register(Fory fory, Collection<Class<? extends Record>> records) {
        fory.registerSerializer(Chan.class, f -> new ChanSerializer(f));
        for (Class<? extends Record> r : java.util.stream.Stream.concat(API_RECORDS.stream(), records.stream()).toList()) {
            fory.registerSerializer(r, f -> new RecordSerializer<>(f, r));
        }
    }

    /** A channel travels as the reference to its owner's core; each copy makes its own buffers. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class ChanSerializer extends Serializer<Chan> {
        ChanSerializer(Fory fory) {
            super(fory, Chan.class);
        }

        @Override
        public void write(MemoryBuffer buffer, Chan value) {
            fory.writeRef(buffer, value.core());
        }

        @Override
        public Chan read(MemoryBuffer buffer) {
            if (!(fory.readRef(buffer) instanceof ChanCore core)) {
                throw new CodecException("a channel's core is not a reference to a channel");
            }
            return new Chan(core);
        }
    }

    /**
     * A record as its number of components, then each component as Fory writes a value. Reading
     * checks the count and each component's type before it calls the canonical constructor, which
     * checks the rest as it does for any caller.
     */
    private static final class RecordSerializer<T extends Record> extends Serializer<T> {
        private final Class<?>[] types; // boxed
        private final boolean[] primitive;
        /** The accessors and the canonical constructor, of their own types; found when the serializer is made. */
        private final MethodHandle[] accessors;
        private final MethodHandle canonical;
        /**
         * The same with erased types, the constructor spreading an array: made at the first write and the first
         * read. Adapting the handles spins method-handle classes that no class archive holds, 25 in a cold
         * worker when every Fory instance made them for every record as it was built (docs/performance.md).
         * A Fory instance, and so this serializer, is used by one thread at a time.
         */
        private MethodHandle[] getters;
        private MethodHandle constructor;

        RecordSerializer(Fory fory, Class<T> type) {
            super(fory, type);
            RecordComponent[] components = type.getRecordComponents();
            types = new Class<?>[components.length];
            primitive = new boolean[components.length];
            accessors = new MethodHandle[components.length];
            Class<?>[] declared = new Class<?>[components.length];
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            try {
                for (int i = 0; i < components.length; i++) {
                    declared[i] = components[i].getType();
                    primitive[i] = declared[i].isPrimitive();
                    types[i] = MethodType.methodType(declared[i]).wrap().returnType();
                    accessors[i] = lookup.unreflect(components[i].getAccessor());
                }
                canonical = lookup.findConstructor(type, MethodType.methodType(void.class, declared));
            } catch (ReflectiveOperationException e) {
                throw new IllegalArgumentException(type.getName() + " is not a public record with a public canonical constructor", e);
            }
        }

        private MethodHandle[] getters() {
            MethodHandle[] g = getters;
            if (g == null) {
                g = new MethodHandle[accessors.length];
                for (int i = 0; i < g.length; i++) {
                    g[i] = accessors[i].asType(MethodType.methodType(Object.class, Object.class));
                }
                getters = g;
            }
            return g;
        }

        private MethodHandle constructor() {
            MethodHandle c = constructor;
            if (c == null) {
                c = canonical.asSpreader(Object[].class, types.length).asType(MethodType.methodType(Object.class, Object[].class));
                constructor = c;
            }
            return c;
        }

        @Override
        public void write(MemoryBuffer buffer, T value) {
            MethodHandle[] g = getters();
            buffer.writeVarUint32Small7(g.length);
            for (MethodHandle getter : g) {
                try {
                    fory.writeRef(buffer, getter.invokeExact((Object) value));
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            }
        }

        @Override
        public T read(MemoryBuffer buffer) {
            int n = buffer.readVarUint32Small7();
            if (n != types.length) {
                throw new CodecException("a " + type.getSimpleName() + " with " + n + " components; this runtime's has "
                    + types.length + " (a runtime of another JCircuit version?)");
            }
            Object[] values = new Object[n];
            for (int i = 0; i < n; i++) {
                Object v = fory.readRef(buffer);
                if (v == null ? primitive[i] : !types[i].isInstance(v)) {
                    throw new CodecException("component " + i + " of a " + type.getSimpleName() + " is "
                        + (v == null ? "null" : "a " + v.getClass().getName()) + ", not a " + types[i].getName());
                }
                values[i] = v;
            }
            try {
                return type.cast(constructor().invokeExact(values));
            } catch (RuntimeException e) {
                throw new CodecException("a " + type.getSimpleName() + " that its constructor refuses: " + e.getMessage());
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
