package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Which waiting caller may poll, and when pollers step aside. */
class WaitersTest {

    private static final long BUDGET = TimeUnit.MICROSECONDS.toNanos(50);

    @Test
    void withSeveralCarriersOnlyALoneWaiterPolls() {
        Waiters w = new Waiters(50, 2, 0);

        assertThat(w.enter()).isEqualTo(BUDGET);
        assertThat(w.mayKeepPolling()).isTrue();
        assertThat(w.enter()).as("a second waiter parks at once").isZero();
        assertThat(w.mayKeepPolling()).as("and the first stops polling").isFalse();

        w.leave();
        assertThat(w.mayKeepPolling()).isTrue();
        w.endPoll();
        w.leave();
        assertThat(new Waiters(0, 2).enter()).isZero();
    }

    @Test
    void withOneCarrierOneWaiterPollsUntilAnotherCallersAnswerComes() {
        Waiters w = new Waiters(50, 1, 0);

        assertThat(w.enter()).isEqualTo(BUDGET);
        assertThat(w.enter()).as("one poller at a time").isZero();
        assertThat(w.mayKeepPolling()).as("others waiting do not stop it").isTrue();

        w.answered(); // the second caller's answer came: it needs the carrier the poller holds
        assertThat(w.mayKeepPolling()).isFalse();
        w.leave();
        w.answerTaken();
        assertThat(w.mayKeepPolling()).isTrue();

        w.endPoll();
        assertThat(w.enter()).as("the next waiter may poll once the poll ended").isEqualTo(BUDGET);
        assertThat(new Waiters(0, 1).enter()).isZero();
    }

    @Test
    void aCallThreadWaitingForACarrierStopsThePollers() {
        for (int carriers : new int[] {1, 2}) {
            Waiters w = new Waiters(50, carriers, 0);
            assertThat(w.enter()).isEqualTo(BUDGET);
            assertThat(w.callThreadWaits()).isFalse();

            w.callThreadStarting();
            w.callThreadStarting();
            assertThat(w.callThreadWaits()).isTrue();
            assertThat(w.mayKeepPolling()).as("the polling caller stops").isFalse();
            assertThat(new Waiters(50, carriers, 0).enter()).isEqualTo(BUDGET); // another runtime's count is its own

            w.callThreadStarted();
            assertThat(w.callThreadWaits()).isTrue();
            w.callThreadStarted();
            assertThat(w.callThreadWaits()).isFalse();
            assertThat(w.mayKeepPolling()).isTrue();
        }
    }

    @Test
    void aNewRuntimesWaitersParkAtOnceUntilItIsBusy() {
        for (int carriers : new int[] {1, 2}) {
            Waiters w = new Waiters(50, carriers);
            for (int i = 0; i < Waiters.POLL_AFTER; i++) {
                assertThat(w.enter()).as("wait %d of a runtime just started", i).isZero();
                w.leave();
            }
            // sched_yield is bound on a thread of its own; polls are allowed once it is
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
                long budget = w.enter();
                if (budget > 0) {
                    w.endPoll();
                }
                w.leave();
                return budget == BUDGET;
            });
            assertThat(w.busy()).as("a call thread may linger too").isTrue();
        }
    }

    @Test
    void theCarrierCountIsTheJdksSettingElseTheCpus() {
        String before = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        try {
            System.clearProperty("jdk.virtualThreadScheduler.parallelism");
            assertThat(Waiters.carriers()).isEqualTo(Runtime.getRuntime().availableProcessors());
            System.setProperty("jdk.virtualThreadScheduler.parallelism", "1");
            assertThat(Waiters.carriers()).isEqualTo(1);
            System.setProperty("jdk.virtualThreadScheduler.parallelism", "x");
            assertThat(Waiters.carriers()).isEqualTo(Runtime.getRuntime().availableProcessors());
        } finally {
            if (before == null) {
                System.clearProperty("jdk.virtualThreadScheduler.parallelism");
            } else {
                System.setProperty("jdk.virtualThreadScheduler.parallelism", before);
            }
        }
    }
}
