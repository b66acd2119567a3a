package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.resolver.ClassResolver;
import org.apache.fory.serializer.Serializer;
import org.apache.fory.serializer.collection.CollectionSerializers;

import java.util.EnumSet;
import java.util.List;

/**
 * {@link EnumSet}s, named by their enum. Fory 0.13's own serializer names the element type by the
 * first element's {@code getClass()}, which for a constant with a body ({@code PLUS { ... }}, the usual
 * strategy enum) is the constant's anonymous subclass: the reader then failed with "not an enum" and
 * the whole message was lost. This one names {@code getDeclaringClass()}; the rest of the wire (the
 * enum's class, a count, each element by the enum's serializer) is what Fory's writes.
 *
 * <p>Registered after every other class: {@code RegularEnumSet} keeps the id Fory gave it, and
 * {@code JumboEnumSet} (enums of more than 64 constants), which Fory named on the wire, takes the next
 * free id, so the ids of the classes registered before stay as they were.
 */
final class EnumSetSerializer extends CollectionSerializers.EnumSetSerializer {

    private EnumSetSerializer(Fory fory, Class<EnumSet> cls) {
        super(fory, cls);
    }

    /** Replaces Fory's serializer for both of the JDK's {@code EnumSet} classes. Call before first use. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void register(Fory fory) {
        ClassResolver r = fory.getClassResolver();
        for (String name : List.of("java.util.RegularEnumSet", "java.util.JumboEnumSet")) { // up to 64 constants, more
            Class<EnumSet> cls;
            try {
                cls = (Class) Class.forName(name, false, EnumSet.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("this JDK has no " + name + ", one of the EnumSet classes", e);
            }
            r.registerSerializer(cls, new EnumSetSerializer(fory, cls));
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void write(MemoryBuffer buffer, EnumSet value) {
        Class<?> type = elementType(value);
        ClassResolver r = fory.getClassResolver();
        r.writeClassAndUpdateCache(buffer, type);
        Serializer<Object> elements = (Serializer<Object>) r.getSerializer(type);
        buffer.writeVarUint32Small7(value.size());
        for (Object e : value) {
            elements.write(buffer, e);
        }
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public EnumSet read(MemoryBuffer buffer) {
        ClassResolver r = fory.getClassResolver();
        Class type = r.readClassInfo(buffer).getCls();
        if (!type.isEnum()) {
            throw new CodecException("an EnumSet names " + type.getTypeName() + ", which is not an enum");
        }
        EnumSet set = EnumSet.noneOf(type);
        Serializer<?> elements = r.getSerializer(type);
        int n = CountGuards.readCount(buffer, EnumSet.class);
        for (int i = 0; i < n; i++) {
            set.add(elements.read(buffer));
        }
        return set;
    }

    /** The enum of {@code set}'s elements, found through its complement when it is empty. */
    private static Class<?> elementType(EnumSet<?> set) {
        EnumSet<?> some = set.isEmpty() ? EnumSet.complementOf(set) : set;
        if (some.isEmpty()) {
            throw new CodecException("an EnumSet of an enum with no constants cannot be sent: its enum cannot be told");
        }
        return some.iterator().next().getDeclaringClass();
    }
}
