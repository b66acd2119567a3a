package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class CallDeadlinesTest {

    /** A deadline that is due now; {@code onExpiry} runs when it is expired. */
    private static CallDeadlines.Expiring due(Runnable onExpiry) {
        long deadline = System.nanoTime();
        return new CallDeadlines.Expiring() {
            @Override
            long deadline() {
                return deadline;
            }

            @Override
            void expire() {
                onExpiry.run();
            }
        };
    }

    /**
     * The sweeper is the only thread that expires a runtime's deadlines: one expiry that throws must not
     * end it, or every later call would wait past its deadline for ever.
     */
    @Test
    void anExpiryThatThrowsLeavesTheSweeperExpiringTheOthers() throws Exception {
        try (CallDeadlines deadlines = new CallDeadlines("test")) {
            CountDownLatch thrown = new CountDownLatch(1);
            deadlines.add(due(() -> {
                thrown.countDown();
                throw new StackOverflowError("an expiry that fails");
            }));
            assertThat(thrown.await(30, TimeUnit.SECONDS)).as("the failing expiry ran").isTrue();

            CountDownLatch later = new CountDownLatch(1);
            deadlines.add(due(later::countDown));
            assertThat(later.await(30, TimeUnit.SECONDS)).as("a later deadline was still expired").isTrue();
        }
    }
}
