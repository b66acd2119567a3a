package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;
import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.serializer.Serializer;

import java.lang.reflect.InvocationHandler;

/**
 * The ref-aware part of the codec. Fory writes a JDK proxy as its interfaces plus its invocation
 * handler; for a circuit reference the handler is written as a {@link RefDescriptor} and read back as
 * a handler bound to the receiving runtime. Worker handles travel as id and address.
 */
final class ReferenceSerializers {

    private ReferenceSerializers() {
    }

    /**
     * What the serializers of one Fory instance need to know about the message at hand: the peer it
     * goes to or came from (null for a local copy), and whether the value is being stored for good.
     * Set by {@link MessageCodec} around each encode and decode; a pooled instance is used by one
     * thread at a time.
     */
    static final class Context implements java.util.function.LongConsumer {
        /** A holds list grown past this many handles is not kept for the next message. */
        private static final int RETAINED_HOLDS = 1024;

        WorkerId peer;
        boolean permanent;
        /** Reading: the value was stored (the durable store), not sent by {@link #peer}. */
        boolean stored;
        /**
         * Reading: the bytes are only being checked ({@link MessageCodec#encodeValue}); references are read as
         * handlers that belong to no runtime, and nothing is acquired.
         */
        boolean trial;
        /** Writing: the handles of the holds counted for {@link #peer}, in the order they were written. */
        long[] holds = new long[16];
        int holdCount;
        /** Reading: how many references whose home is {@link #peer} (the sender) were read so far. */
        int taken;

        @Override
        public void accept(long handle) {
            if (holdCount == holds.length) {
                holds = java.util.Arrays.copyOf(holds, holds.length * 2);
            }
            holds[holdCount++] = handle;
        }

        /** Ready for the next message. */
        void reset() {
            peer = null;
            permanent = false;
            stored = false;
            trial = false;
            holdCount = 0;
            taken = 0;
            if (holds.length > RETAINED_HOLDS) {
                holds = new long[16];
            }
        }
    }

    static Context register(Fory fory, References refs) {
        Context ctx = new Context();
        fory.registerSerializer(refs.handlerType(), f -> new HandlerSerializer(f, refs, ctx));
        fory.registerSerializer(refs.workerType(), f -> new WorkerSerializer(f, refs));
        return ctx;
    }

    /** The handler of a reference read only to check the bytes it came in: never called. */
    private static final InvocationHandler UNUSABLE = (proxy, method, args) -> {
        throw new IllegalStateException("a reference read only to check a value's bytes");
    };

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class HandlerSerializer extends Serializer<InvocationHandler> {
        private final References refs;
        private final Context ctx;

        HandlerSerializer(Fory fory, References refs, Context ctx) {
            super(fory, (Class) refs.handlerType());
            this.refs = refs;
            this.ctx = ctx;
        }

        @Override
        public void write(MemoryBuffer buffer, InvocationHandler value) {
            RefDescriptor d = refs.describe(value, ctx.peer, ctx.permanent, ctx);
            buffer.writeInt64(d.home().value());
            fory.writeString(buffer, d.address().toString());
            buffer.writeInt64(d.handle());
            fory.writeString(buffer, d.iface());
        }

        @Override
        public InvocationHandler read(MemoryBuffer buffer) {
            WorkerId home = new WorkerId(buffer.readInt64());
            Address address = Address.parse(WireReads.readString(buffer, "a reference's address"));
            long handle = buffer.readInt64();
            String iface = WireReads.readString(buffer, "a reference's interface");
            RefDescriptor d = new RefDescriptor(home, address, handle, iface);
            if (ctx.trial) {
                return UNUSABLE;
            }
            InvocationHandler h = ctx.stored ? refs.storedHandlerFor(d) : refs.handlerFor(d, ctx.peer);
            if (home.equals(ctx.peer)) {
                ctx.taken++; // one of the holds the sender listed, in its order: the handler has it now
            }
            return h;
        }
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class WorkerSerializer extends Serializer<Worker> {
        private final References refs;

        WorkerSerializer(Fory fory, References refs) {
            super(fory, (Class) refs.workerType());
            this.refs = refs;
        }

        @Override
        public void write(MemoryBuffer buffer, Worker value) {
            buffer.writeInt64(value.id().value());
            fory.writeString(buffer, value.address().toString());
        }

        @Override
        public Worker read(MemoryBuffer buffer) {
            WorkerId id = new WorkerId(buffer.readInt64());
            Address address = Address.parse(WireReads.readString(buffer, "a worker's address"));
            return refs.resolveWorker(new WorkerDescriptor(id, address));
        }
    }
}
