package io.jcircuit;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Which {@link Chan} copies hold items of sends that returned, so that a runtime that closes ships them
 * first ({@link Chan#flushBuffered}). One set for the JVM, because a copy is a value of the API that
 * does not know its runtime; each runtime ships only the copies whose calls go through it.
 */
final class ChanBuffers {

    /** One copy's send buffer, as these books see it. */
    interface Buffer {
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

    /** Every copy with items buffered now; a copy leaves once it has none. */
    private static final Set<Buffer> BUFFERING = ConcurrentHashMap.newKeySet();

    private ChanBuffers() {
    }

    /** {@code b} holds items now. */
    static void holds(Buffer b) {
        BUFFERING.add(b);
    }

    /** {@code b} holds none now. */
    static void empty(Buffer b) {
        BUFFERING.remove(b);
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
}
