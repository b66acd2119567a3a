package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Who may poll: a caller waiting alone, and only while no call thread waits for a carrier. */
class WaitersTest {

    @Test
    void onlyALoneWaiterGetsAPollingBudget() {
        Waiters w = new Waiters(50);

        assertThat(w.enter()).isEqualTo(TimeUnit.MICROSECONDS.toNanos(50));
        assertThat(w.alone()).isTrue();
        assertThat(w.enter()).isZero();
        assertThat(w.alone()).isFalse();

        w.leave();
        assertThat(w.alone()).isTrue();
        w.leave();
        assertThat(new Waiters(0).enter()).isZero();
    }

    @Test
    void aCallThreadWaitingForACarrierStopsThePollers() {
        Waiters w = new Waiters(50);
        w.enter();
        assertThat(w.callThreadWaits()).isFalse();

        w.callThreadStarting();
        w.callThreadStarting();
        assertThat(w.callThreadWaits()).isTrue();
        assertThat(w.alone()).as("the lone caller stops polling").isFalse();

        w.callThreadStarted();
        assertThat(w.callThreadWaits()).isTrue();
        w.callThreadStarted();
        assertThat(w.callThreadWaits()).isFalse();
        assertThat(w.alone()).isTrue();
    }
}
