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
}
