package io.jcircuit.runtime;

import io.jcircuit.WorkerId;
import io.jcircuit.link.Link;
import io.jcircuit.link.LinkConfig;
import io.jcircuit.link.LinkListener;
import io.jcircuit.link.LinkTransport;
import io.jcircuit.link.LoopShare;
import io.netty.buffer.ByteBuf;
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
    void overlappingCallsKeepPollersOffASharedLoopForAWhile() throws Exception {
        try (LinkTransport t = LinkTransport.start(LinkConfig.builder().sharedLoop(true).build(), WorkerId.random(),
                new Discarding())) {
            LoopShare share = t.loopShare();
            Waiters w = new Waiters(50, 2, 0, TimeUnit.HOURS.toNanos(1));
            w.loop(share);
            assertThat(w.crowdedLately()).as("a new runtime's calls have not overlapped").isFalse();
            boolean held = awaitTurnThatTakes(w);
            w.letGo(held);

            // calls overlap: a second caller waits while the first does
            w.enter();
            w.enter();
            assertThat(w.crowdedLately()).isTrue();
            w.leave();
            w.leave();
            for (int i = 0; i < 1_000; i++) {
                boolean took = w.pollTurn(false, true);
                w.letGo(took); // before the assertion, so that a failure leaves the loop free for the close
                assertThat(took).as("turn %d of a poller alone after calls overlapped", i).isFalse();
            }
            // it was the overlap that kept the poller off, not the loop's own thread: the loop is free
            awaitFree(share);

            Waiters briefly = new Waiters(50, 2, 0, TimeUnit.MILLISECONDS.toNanos(1));
            briefly.loop(share);
            briefly.crowded(); // as a request that finds no call thread lingering for it
            assertThat(briefly.crowdedLately()).isTrue();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !briefly.crowdedLately());
            briefly.letGo(awaitTurnThatTakes(briefly));
            awaitFree(share);
        }
    }

    /**
     * Polls as a caller alone until a turn takes the shared loop; returns true. On this thread: the thread that
     * takes the loop must be the one that lets go.
     */
    private static boolean awaitTurnThatTakes(Waiters w) {
        boolean[] held = {false};
        org.awaitility.Awaitility.await().pollInSameThread().atMost(java.time.Duration.ofSeconds(10))
            .until(() -> held[0] = w.pollTurn(held[0], true));
        return held[0];
    }

    private static void awaitFree(LoopShare share) {
        org.awaitility.Awaitility.await().pollInSameThread().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
            boolean free = share.tryHold(false);
            if (free) {
                share.release();
            }
            return free;
        });
    }

    /** A transport's listener for a test that sends nothing. */
    private static final class Discarding implements LinkListener {
        @Override
        public void onLinkUp(Link link) {
        }

        @Override
        public void onData(Link link, ByteBuf frame) {
            frame.release();
        }

        @Override
        public void onLinkDown(Link link, String reason) {
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
