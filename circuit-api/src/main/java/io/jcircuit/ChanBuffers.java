package io.jcircuit;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Which {@link Chan} copies hold items of sends that returned: per thread, so that such a send is in
 * its channel before what its thread does next through the circuit ({@link Chan#flushSendsOfThisThread}),
 * and in all, so that a runtime that closes ships them first ({@link Chan#flushBuffered}).
 */
final class ChanBuffers {

    /** One copy's send buffer, as these books see it. */
    interface Buffer {
        /** How many of the items ever buffered in this copy are done with: gone to the owner, or failed. */
        long settled();

        /**
         * Ships what this copy has buffered, waiting for room as {@link Chan#flush} does within the current
         * scope's deadline. Returns the failure, null when all went. A failure of the channel (it closed, its
         * owner died, an item failed alone) is also kept for the copy's next send, flush or close; a deadline
         * that passed before a batch was sent leaves that batch buffered.
         */
        RuntimeException flushPending();

        /** The owner's core that this copy's calls go to. */
        ChanCore core();
    }

    /** Copies a thread buffered in beyond which it forgets the ones settled since. */
    private static final int PRUNE_AT = 16;
    private static final ThreadLocal<Pending> PENDING = new ThreadLocal<>();
    /** Every copy with items buffered now; a copy leaves once it has none. */
    private static final Set<Buffer> BUFFERING = ConcurrentHashMap.newKeySet();

    private ChanBuffers() {
    }

    /**
     * The current thread's send buffered an item in {@code b}, its {@code count}th: the thread's next
     * call out waits for it. Under {@code b}'s lock, so {@code count} only grows.
     */
    static void buffered(Buffer b, long count) {
        Pending p = PENDING.get();
        if (p == null) {
            p = new Pending();
            PENDING.set(p);
        }
        p.note(b, count);
    }

    /** {@code b} holds items now. */
    static void holds(Buffer b) {
        BUFFERING.add(b);
    }

    /** {@code b} holds none now. */
    static void empty(Buffer b) {
        BUFFERING.remove(b);
    }

    /** Whether this thread buffered items since its last call out: one thread-local read. */
    static boolean pendingOnThisThread() {
        Pending p = PENDING.get();
        return p != null && p.size > 0;
    }

    /** See {@link Chan#flushSendsOfThisThread}. */
    static void flushThisThread() {
        Pending p = PENDING.get();
        if (p == null || p.size == 0) {
            return;
        }
        for (int i = 0; i < p.size; i++) {
            Buffer b = p.buffers[i].get(); // gone: it held nothing (BUFFERING holds those that do)
            if (b != null && b.settled() < p.counts[i]
                && b.flushPending() instanceof DeadlineExceededException late) {
                throw late; // this thread's call fails before it is sent; what did not go is still buffered
            }
        }
        p.clear();
    }

    /** See {@link Chan#flushBuffered}. */
    static List<RuntimeException> flushAll(Predicate<ChanCore> copiesOf) {
        long deadline = Deadline.currentNanoTime().orElse(Long.MAX_VALUE);
        List<Thread> threads = new ArrayList<>();
        List<RuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (Buffer b : BUFFERING) {
            if (copiesOf.test(b.core())) {
                // each on a thread of its own: one copy waiting for room must not hold back the others
                threads.add(Thread.ofVirtual().name("chan-flush-all").start(() -> {
                    RuntimeException e = deadline == Long.MAX_VALUE ? b.flushPending()
                        : Deadline.until(deadline, b::flushPending);
                    if (e != null) {
                        failures.add(e);
                    }
                }));
            }
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add(new CircuitException("interrupted while channel copies shipped what they buffered"));
                break;
            }
        }
        synchronized (failures) {
            return List.copyOf(failures);
        }
    }

    /** The copies one thread buffered in since its last call out, each with the count its last item there had. */
    private static final class Pending {
        /** Weak: these books are not to keep a copy alive; one that holds items is in {@link #BUFFERING}. */
        private WeakReference<Buffer>[] buffers = newArray(4);
        private long[] counts = new long[4];
        private int size;

        @SuppressWarnings("unchecked")
        private static WeakReference<Buffer>[] newArray(int n) {
            return (WeakReference<Buffer>[]) new WeakReference<?>[n];
        }

        void note(Buffer b, long count) {
            for (int i = size - 1; i >= 0; i--) { // the last one first: a thread mostly sends to one copy in a row
                if (buffers[i].get() == b) {
                    counts[i] = count;
                    return;
                }
            }
            if (size >= PRUNE_AT) {
                prune();
            }
            if (size == buffers.length) {
                buffers = Arrays.copyOf(buffers, size * 2);
                counts = Arrays.copyOf(counts, size * 2);
            }
            buffers[size] = new WeakReference<>(b);
            counts[size++] = count;
        }

        /** Forgets the copies whose items this thread buffered are all done with. */
        private void prune() {
            int kept = 0;
            for (int i = 0; i < size; i++) {
                Buffer b = buffers[i].get();
                if (b != null && b.settled() < counts[i]) {
                    buffers[kept] = buffers[i];
                    counts[kept++] = counts[i];
                }
            }
            Arrays.fill(buffers, kept, size, null);
            size = kept;
        }

        void clear() {
            Arrays.fill(buffers, 0, size, null);
            size = 0;
        }
    }
}
