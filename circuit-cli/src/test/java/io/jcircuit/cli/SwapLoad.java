package io.jcircuit.cli;

import io.jcircuit.examples.swap.TallyShard;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;

/**
 * Calls that go on during a hot swap: virtual threads that each add 1 to key {@code k} of a tally shard in a
 * loop, as fast as the shard answers, until {@link #stop}. It counts the calls that were answered, those
 * version 2 answered, and keeps what a call threw (a thread that caught one calls no more). The tests that
 * swap under load assert that nothing was thrown and that the shards counted every call.
 */
final class SwapLoad implements AutoCloseable {

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong added = new AtomicLong();
    private final AtomicLong byV2 = new AtomicLong();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final CountDownLatch done;

    private SwapLoad(List<TallyShard> perThread) {
        done = new CountDownLatch(perThread.size());
        for (TallyShard shard : perThread) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (!stop.get()) {
                        TallyShard.Ack ack = shard.add("k", 1);
                        added.incrementAndGet();
                        if (ack.version().equals("v2")) {
                            byV2.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    done.countDown();
                }
            });
        }
    }

    /** Starts {@code threads} threads that call {@code shard}. */
    static SwapLoad on(TallyShard shard, int threads) {
        return new SwapLoad(java.util.Collections.nCopies(threads, shard));
    }

    /** Starts one thread per shard of {@code shards}. */
    static SwapLoad onEach(List<TallyShard> shards) {
        return new SwapLoad(List.copyOf(shards));
    }

    /** The calls answered so far. */
    long added() {
        return added.get();
    }

    /** The calls answered so far by version 2 of the shard. */
    long byV2() {
        return byV2.get();
    }

    /** Waits until more than {@code calls} calls have been answered since this was called. */
    void awaitMore(long calls) {
        long at = added.get();
        await().until(() -> added.get() > at + calls);
    }

    /**
     * Stops the threads and waits until each has ended (its call under way answered or failed).
     *
     * @return what the calls threw, in the order caught
     */
    List<Throwable> stop() throws InterruptedException {
        stop.set(true);
        done.await();
        return List.copyOf(failures);
    }

    /** Tells the threads to stop, without waiting: for a test that failed before its {@link #stop}. */
    @Override
    public void close() {
        stop.set(true);
    }
}
