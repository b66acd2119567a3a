package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/** The queue that completes futures loses nothing, also while new drainers take over from held ones. */
class CompletionsTest {

    @Test
    void everyCompletionRunsWhileHeldDrainersAreTakenOverAgainAndAgain() throws Exception {
        int submitters = 4;
        int each = 20_000;
        LongAdder ran = new LongAdder();
        CountDownLatch all = new CountDownLatch(submitters * each);
        try (CallDeadlines deadlines = new CallDeadlines("test");
             ExecutorService threads = Executors.newFixedThreadPool(submitters)) {
            // taken over after 1 ms: many takeovers, with the held drainers coming back while new ones run
            Completions completions = new Completions("test", new Waiters(0, 2), deadlines, TimeUnit.MILLISECONDS.toNanos(1));
            java.util.concurrent.atomic.AtomicInteger stuckForGood = new java.util.concurrent.atomic.AtomicInteger();
            for (int t = 0; t < submitters; t++) {
                threads.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        if (i % 500 == 0) {
                            // a completion that waits for one queued behind it: only a takeover lets it go
                            CountDownLatch behind = new CountDownLatch(1);
                            completions.submit(() -> {
                                try {
                                    if (!behind.await(30, TimeUnit.SECONDS)) {
                                        stuckForGood.incrementAndGet();
                                    }
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                ran.increment();
                                all.countDown();
                            });
                            completions.submit(() -> {
                                behind.countDown();
                                ran.increment();
                                all.countDown();
                            });
                            i++;
                            continue;
                        }
                        completions.submit(() -> {
                            ran.increment();
                            all.countDown();
                        });
                    }
                });
            }
            boolean done = all.await(60, TimeUnit.SECONDS);
            assertThat(ran.sum()).as("completions run").isEqualTo((long) submitters * each);
            assertThat(done).isTrue();
            assertThat(stuckForGood).as("held completions released by a takeover").hasValue(0);
        }
    }
}
