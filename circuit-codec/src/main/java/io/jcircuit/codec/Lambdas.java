package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.SerializedLambda;

/**
 * The {@code go} function when it is a serializable lambda, the common case, written as the parts of
 * its {@link SerializedLambda} rather than through Fory.
 *
 * <p>Why: Fory writes a lambda's {@code SerializedLambda} with a serializer that it generates and
 * compiles with Janino on first use, in every JVM. A new worker's first {@code go} is its spawn's
 * function, so every cold worker paid for that compiler (about 95 ms of a 450 ms cold spawn, and
 * some 640 classes). The parts are eight strings and an int; the captured values still go through
 * Fory.
 *
 * <pre>
 *  | capturing class | functional interface class, method name, signature | impl method kind (varint) |
 *  | impl class, method name, signature | instantiated method type | captured args (Fory Object[]) |
 * </pre>
 *
 * Class names are in the JVM's internal form ({@code a/b/C}), as {@code SerializedLambda} keeps them.
 * Reading one back resolves it as Java serialization does: through the capturing class's
 * {@code $deserializeLambda$}, which the compiler writes to accept only that class's own serializable
 * lambdas. A lambda that this class cannot take apart (one in a named module that is not open to
 * JCircuit) is left to Fory.
 */
final class Lambdas {

    /** A lambda class's {@code writeReplace}, or null when it has none that can be reached from here. */
    private static final ClassValue<MethodHandle> WRITE_REPLACE = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            if (!type.isHidden() || !type.isSynthetic()) {
                return null;
            }
            try {
                return MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findVirtual(type, "writeReplace", MethodType.methodType(Object.class));
            } catch (ReflectiveOperationException | IllegalArgumentException | SecurityException e) {
                return null;
            }
        }
    };

    /** A capturing class's {@code $deserializeLambda$}; throws when it has none or it cannot be reached. */
    private static final ClassValue<MethodHandle> DESERIALIZE = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                return MethodHandles.privateLookupIn(type, MethodHandles.lookup())
                    .findStatic(type, "$deserializeLambda$", MethodType.methodType(Object.class, SerializedLambda.class));
            } catch (ReflectiveOperationException | IllegalArgumentException | SecurityException e) {
                throw new CodecException("class " + type.getName() + " has no serializable lambda this runtime can rebuild: " + e);
            }
        }
    };

    /**
     * Capturing classes found by name, so that a {@code go} does not ask the class loader each time.
     * Only classes that exist land here, so a peer that sends made-up names cannot grow it.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, Class<?>> capturingClasses =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final ClassLoader loader;

    Lambdas(ClassLoader loader) {
        this.loader = loader;
    }

    /** The parts of {@code fn} when it is a serializable lambda this class can take apart; null otherwise. */
    static SerializedLambda partsOf(Object fn) {
        MethodHandle writeReplace = WRITE_REPLACE.get(fn.getClass());
        if (writeReplace == null) {
            return null;
        }
        try {
            return writeReplace.invoke(fn) instanceof SerializedLambda parts ? parts : null;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("writeReplace of " + fn.getClass().getName() + " failed", t);
        }
    }

    static void write(Fory fory, MemoryBuffer body, SerializedLambda parts) {
        fory.writeString(body, parts.getCapturingClass());
        fory.writeString(body, parts.getFunctionalInterfaceClass());
        fory.writeString(body, parts.getFunctionalInterfaceMethodName());
        fory.writeString(body, parts.getFunctionalInterfaceMethodSignature());
        body.writeVarUint32(parts.getImplMethodKind());
        fory.writeString(body, parts.getImplClass());
        fory.writeString(body, parts.getImplMethodName());
        fory.writeString(body, parts.getImplMethodSignature());
        fory.writeString(body, parts.getInstantiatedMethodType());
        Object[] captured = new Object[parts.getCapturedArgCount()];
        for (int i = 0; i < captured.length; i++) {
            captured[i] = parts.getCapturedArg(i);
            if (captured[i] instanceof io.jcircuit.Circuit) {
                throw new CodecException("the lambda captures a runtime (" + captured[i].getClass().getName()
                    + "), which cannot travel; inside the function, Circuit.current() is the runtime it runs on");
            }
        }
        fory.serialize(body, captured);
    }

    /** The classes of what the lambda captures, for an error message: "java.lang.String, int[]" or "nothing". */
    static String capturedTypes(SerializedLambda parts) {
        if (parts.getCapturedArgCount() == 0) {
            return "nothing";
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < parts.getCapturedArgCount(); i++) {
            Object v = parts.getCapturedArg(i);
            s.append(i == 0 ? "" : ", ").append(v == null ? "null" : v.getClass().getTypeName());
        }
        return s.toString();
    }

    /** Reads what {@link #write} wrote and rebuilds the lambda, its captured values read by {@code values}. */
    Object read(MemoryBuffer body, java.util.function.Function<MemoryBuffer, Object> values) {
        String capturing = WireReads.readString(body, "the lambda's capturing class");
        String iface = WireReads.readString(body, "the lambda's interface");
        String ifaceMethod = WireReads.readString(body, "the lambda's interface method");
        String ifaceSignature = WireReads.readString(body, "the lambda's interface method signature");
        int implKind = body.readVarUint32();
        String implClass = WireReads.readString(body, "the lambda's implementation class");
        String implMethod = WireReads.readString(body, "the lambda's implementation method");
        String implSignature = WireReads.readString(body, "the lambda's implementation method signature");
        String instantiated = WireReads.readString(body, "the lambda's instantiated method type");
        if (!(values.apply(body) instanceof Object[] captured)) {
            throw new CodecException("the captured values of a lambda of " + WireReads.quote(capturing) + " are not an array");
        }
        Class<?> capturingClass = capturingClasses.get(capturing);
        if (capturingClass == null) {
            try {
                capturingClass = Class.forName(capturing.replace('/', '.'), false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                throw new CodecException("the lambda's capturing class " + WireReads.quote(capturing) + " cannot be loaded here: " + e);
            }
            capturingClasses.put(capturing, capturingClass);
        }
        SerializedLambda parts = new SerializedLambda(capturingClass, iface, ifaceMethod, ifaceSignature, implKind,
            implClass, implMethod, implSignature, instantiated, captured);
        try {
            return DESERIALIZE.get(capturingClass).invoke(parts);
        } catch (CodecException e) {
            throw e;
        } catch (Throwable t) {
            // $deserializeLambda$ throws IllegalArgumentException("Invalid lambda deserialization") for
            // parts that match none of its class's lambdas
            throw new CodecException("a lambda of " + capturingClass.getName() + " (" + WireReads.quote(implMethod)
                + ") cannot be rebuilt here: " + t);
        }
    }
}
