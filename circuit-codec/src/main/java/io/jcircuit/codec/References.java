package io.jcircuit.codec;

import io.jcircuit.WorkerId;

import io.jcircuit.Worker;

import java.lang.reflect.InvocationHandler;
import java.util.function.LongConsumer;

/**
 * How the codec turns references and worker handles into descriptors and back. The runtime
 * implements it; the codec calls it while it writes and reads messages, on whatever thread encodes.
 *
 * <p>A reference is a JDK proxy whose invocation handler is of {@link #handlerType()}. The codec
 * writes the proxy's interfaces and, in place of the handler, its {@link RefDescriptor}; reading, it
 * builds a new proxy around {@link #handlerFor} of that descriptor.
 */
public interface References {

    /** The class of the invocation handler behind every reference. */
    Class<? extends InvocationHandler> handlerType();

    /**
     * Describes the handler of a reference being written to {@code to} (null for a local copy);
     * {@code permanent} when the value is being stored for good. The runtime counts the holder here,
     * and gives {@code counted} the handle of each hold it counted for {@code to}: only references
     * whose home is the writing runtime are counted so, every one of them written to a peer.
     *
     * <p>The codec lists those handles in the message (see {@link MessageCodec}), so that holds counted
     * for a message that is then not sent can be undone ({@link CodecException#holds()},
     * {@link MessageCodec#holds}), and so that a receiver that cannot read a message can release those of
     * its references it did not read.
     */
    RefDescriptor describe(InvocationHandler handler, WorkerId to, boolean permanent, LongConsumer counted);

    /**
     * The handler for a reference read off the wire from {@code from} (null for a local copy). A
     * reference whose home is {@code from} was counted as held by this runtime there: the handler
     * returned takes that hold over, and releases it once it is dropped.
     */
    InvocationHandler handlerFor(RefDescriptor descriptor, WorkerId from);

    /**
     * The handler for a reference read from a stored value ({@link MessageCodec#decodeValue}): the runtime
     * may tell its home that it holds it now, as for one received from a third runtime. By default, a
     * local copy's.
     */
    default InvocationHandler storedHandlerFor(RefDescriptor descriptor) {
        return handlerFor(descriptor, null);
    }

    /** The runtime's class of {@link Worker} handles. */
    Class<? extends Worker> workerType();

    /** Turns a worker handle read off the wire into this runtime's handle on that worker. */
    Worker resolveWorker(WorkerDescriptor descriptor);
}
