package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.config.CompatibleMode;
import org.apache.fory.config.Language;
import org.apache.fory.logging.LogLevel;
import org.apache.fory.logging.LoggerFactory;
import org.apache.fory.memory.MemoryBuffer;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fory instances of one codec, each paired with a reusable output buffer. A Fory instance is not
 * thread-safe and is costly to build, and calls run on short-lived virtual threads, so instances are
 * pooled (a thread-local would build one per virtual thread). The pool grows to the number of
 * threads encoding at once and keeps at most {@code maxIdle} idle instances.
 *
 * <p>Fory's own {@code ThreadPoolFory} pools instances too, but cannot keep a buffer with each one.
 */
final class ForyPool {

    static {
        // Fory picks its logger when its classes initialise: route it through SLF4J, and keep its
        // own fallback logger to warnings in case SLF4J has no binding.
        LoggerFactory.useSlf4jLogging(true);
        LoggerFactory.setLogLevel(LogLevel.WARN_LEVEL);
    }

    /** One pooled instance and its buffer. */
    static final class Slot {
        final Fory fory;
        final ReferenceSerializers.Context ctx;
        /** Replaced by a small one when a large value has grown it past {@link #MAX_RETAINED_BUFFER_BYTES}. */
        MemoryBuffer out = newBuffer();
        /** For {@link MetaGuard#checkBody}, so that checking class definitions allocates nothing. */
        final MetaGuard.Cursor metaCursor = new MetaGuard.Cursor();
        /** The pool's, shared by all its instances. */
        final ClassDefIds classDefIds;

        Slot(Fory fory, ReferenceSerializers.Context ctx, ClassDefIds classDefIds) {
            this.fory = fory;
            this.ctx = ctx;
            this.classDefIds = classDefIds;
        }
    }

    private static final int MAX_RETAINED_BUFFER_BYTES = 1 << 20;
    /**
     * How deep values may nest when read: deeper input is refused before it can exhaust the reading
     * thread's stack. Fory's default of 50 refused a linked list of 51 records. Measured on virtual
     * threads with the default stack, without a limit: nested maps overflowed the stack from about
     * 2,000 levels, a tree of records from 4,000, a chain of records from 8,000; a message that
     * overflows anyway is refused the same way ({@link CodecException#beyondReaderLimits}).
     */
    static final int MAX_DEPTH = 500;

    /**
     * The class-definition ids peers may introduce, shared by all instances of the pool: Fory caches a
     * definition in each instance but generates its serializer class once per JVM.
     */
    private final ClassDefIds classDefIds;
    private final ClassLoader loader;
    private final java.util.function.Function<Fory, ReferenceSerializers.Context> setup;
    private final int maxIdle;
    private final ConcurrentLinkedDeque<Slot> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    /** The instance built when the pool was made, until the first {@link #acquire} takes it. */
    private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<Slot>> first = new java.util.concurrent.atomic.AtomicReference<>();

    ForyPool(ClassLoader loader, java.util.function.Function<Fory, ReferenceSerializers.Context> setup, int maxIdle,
             ClassDefIds classDefIds) {
        this.classDefIds = classDefIds;
        this.loader = loader;
        this.setup = setup;
        this.maxIdle = maxIdle;
        // Build one now, so that the first call does not pay for it, and on a thread of its own: in a cold
        // worker that is some 100 ms of work beside the rest of a runtime's start (its port, its ops service),
        // on two CPUs that the start alone does not keep busy (docs/performance.md).
        CompletableFuture<Slot> building = new CompletableFuture<>();
        first.set(building);
        Thread.ofPlatform().daemon().name("circuit-codec-first").start(() -> {
            try {
                building.complete(newSlot());
            } catch (Throwable t) {
                building.completeExceptionally(t);
            }
        });
    }

    private static MemoryBuffer newBuffer() {
        return MemoryBuffer.newHeapBuffer(512);
    }

    Slot acquire() {
        // read before it is taken: every acquire passes here, and a read of a field nobody writes any more
        // costs nothing, where an atomic exchange would write its cache line on every call
        CompletableFuture<Slot> building = first.get() == null ? null : first.getAndSet(null);
        if (building != null) {
            try {
                return building.join(); // whoever comes first takes it, as it is or once it is built
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        Slot s = idle.pollFirst();
        if (s != null) {
            idleCount.decrementAndGet();
            return s;
        }
        return newSlot();
    }

    void release(Slot s) {
        s.ctx.reset();
        if (s.out.size() > MAX_RETAINED_BUFFER_BYTES) {
            // Keep the instance, which costs 5-20 ms to build, but not a buffer a large value grew:
            // a channel's batches of files passed 1 MB with every send, and each built a new instance.
            s.out = newBuffer();
        } else {
            s.out.writerIndex(0);
        }
        if (idleCount.incrementAndGet() <= maxIdle) {
            idle.offerFirst(s);
        } else {
            idleCount.decrementAndGet();
        }
    }

    /**
     * A Fory instance set up to read peers' bytes defensively: class definitions inflated within a
     * bound and checked ({@link MetaGuard}), element counts checked before anything is sized by them
     * ({@link CountGuards}), nesting bounded by {@link #MAX_DEPTH}. None of this changes what it writes.
     */
    private Slot newSlot() {
        Fory fory = Fory.builder()
            .withLanguage(Language.JAVA)
            .withCompatibleMode(CompatibleMode.COMPATIBLE)
            .withRefTracking(true)
            .requireClassRegistration(false)
            .suppressClassRegistrationWarnings(true)
            .withDeserializeNonexistentClass(false)
            .withMetaCompressor(new MetaGuard())
            .withMaxDepth(MAX_DEPTH)
            .withClassLoader(loader)
            .build();
        CountGuards.register(fory);
        ReferenceSerializers.Context ctx = setup.apply(fory);
        CountGuards.registerListViews(fory); // last: the ids registered before it stay as they were
        EnumSetSerializer.register(fory); // after those: it gives JumboEnumSet an id of its own
        NetSerializers.register(fory); // last of all: its three classes get ids after every id above
        return new Slot(fory, ctx, classDefIds);
    }
}
