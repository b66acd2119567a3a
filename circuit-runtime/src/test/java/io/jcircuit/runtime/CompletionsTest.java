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
            // taken over after 1 ms: many takeovers, with the old drainers coming back while new ones run
            Completions completions = new Completions("test", new Waiters(0, 2), deadlines, TimeUnit.MILLISECONDS.toNanos(1));
            for (int t = 0; t < submitters; t++) {
                threads.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        boolean hold = i % 500 == 0;
                        completions.submit(() -> {
                            if (hold) {
                                try {
                                    Thread.sleep(3); // holds the drainer past the threshold
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                            ran.increment();
                            all.countDown();
                        });
                        if (i % 1_000 == 0) {
                            Thread.yield();
                        }
                    }
                });
            }
            boolean done = all.await(60, TimeUnit.SECONDS);
            assertThat(ran.sum()).as("completions run").isEqualTo((long) submitters * each);
            assertThat(done).isTrue();
        }
    }
}
