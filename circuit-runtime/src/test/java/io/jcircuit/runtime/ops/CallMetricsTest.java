package io.jcircuit.runtime.ops;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.WorkerId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CallMetricsTest {

    private static void call(CallMetrics m, WorkerId peer, String method) {
        m.record(Direction.OUT, peer, method, 10, 10, 1_000, CallEvent.Outcome.OK);
    }

    @Test
    void aCallThatEndsAfterItsPeerWasForgottenDoesNotBringThePeerBack() {
        CallMetrics m = new CallMetrics();
        WorkerId peer = WorkerId.random();
        call(m, peer, "Shop.buy");
        m.forget(peer);

        // before: every call in flight when the session ended counted the peer anew, for good
        call(m, peer, "Shop.buy");
        assertThat(m.snapshot()).isEmpty();

        m.linked(peer); // the same peer, linked again: counted again
        call(m, peer, "Shop.buy");
        assertThat(m.snapshot()).extracting(CallStats::method).containsExactly("Shop.buy");
    }

    @Test
    void aPeerCountsAtMostSoManyMethodNamesAndTheRestTogether() {
        CallMetrics m = new CallMetrics();
        WorkerId peer = WorkerId.random();
        for (int i = 0; i < CallMetrics.MAX_METHODS + 50; i++) {
            call(m, peer, "dial service-" + i);
        }

        assertThat(m.snapshot()).hasSize(CallMetrics.MAX_METHODS + 1);
        assertThat(m.snapshot()).filteredOn(s -> s.method().equals(CallMetrics.MORE_METHODS))
            .singleElement().extracting(CallStats::calls).isEqualTo(50L);
    }

    @Test
    void noCountGoesDownBetweenSnapshotsWhileCallsAreCounted() throws Exception {
        CallMetrics m = new CallMetrics();
        WorkerId peer = WorkerId.random();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.List<Thread> counters = new java.util.ArrayList<>();
        java.util.concurrent.CountDownLatch counting = new java.util.concurrent.CountDownLatch(2);
        for (int t = 0; t < 2; t++) {
            counters.add(Thread.ofPlatform().start(() -> {
                do {
                    m.record(Direction.IN, peer, "Shop.buy", 1, 1, 1_000, CallEvent.Outcome.THREW);
                    counting.countDown();
                } while (!stop.get());
            }));
        }
        long okSeen = 0;
        try {
            // both counters are under way before the snapshots start: on a busy machine they could all be taken
            // before either thread ran, which left nothing counted at the end
            counting.await();
            // a counter that goes down reads as a reset to a scraper; before: ok (calls less threw and failed)
            // showed a throwing call counted in between as ok, and took it back at the next snapshot
            for (int i = 0; i < 5_000 && okSeen == 0; i++) {
                for (CallStats s : m.snapshot()) {
                    okSeen = Math.max(okSeen, s.calls() - s.threw() - s.failed());
                }
            }
        } finally {
            stop.set(true);
            for (Thread t : counters) {
                t.join();
            }
        }
        assertThat(okSeen).as("calls counted ok, when every call threw").isZero();
        assertThat(m.snapshot()).singleElement().satisfies(s -> assertThat(s.calls()).isEqualTo(s.threw()).isPositive());
    }
}
