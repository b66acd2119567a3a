package io.jcircuit.runtime;

import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** When a peer is taken to keep several calls in flight, so that its answers are left to the event loop. */
class PeerSessionTest {

    private static final long WINDOW = PeerSession.OVERLAP_WINDOW_NANOS;

    @Test
    void aPeerThatCallsOneAtATimeIsNeverTakenForPipelining() {
        PeerSession s = new PeerSession(null, 16, 16, 1 << 20);
        long t = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            assertThat(s.incomingStarted(Unpooled.EMPTY_BUFFER, t)).isTrue();
            assertThat(s.pipelining(t)).as("its one call runs").isFalse();
            assertThat(s.incomingEnded()).isNull();
            t += 30_000; // a round trip later
        }
    }

    @Test
    void aPeerWhoseRequestsOverlapIsTakenForPipeliningForAWindowAfterwards() {
        PeerSession s = new PeerSession(null, 16, 16, 1 << 20);
        long t = System.nanoTime();
        assertThat(s.incomingStarted(Unpooled.EMPTY_BUFFER, t)).isTrue();
        assertThat(s.incomingStarted(Unpooled.EMPTY_BUFFER, t + 1_000)).isTrue();
        assertThat(s.pipelining(t + 2_000)).as("two run").isTrue();
        assertThat(s.incomingEnded()).isNull();
        // the last answer of a burst: its own call is the only one left, but the peer pipelines
        assertThat(s.pipelining(t + 3_000)).isTrue();
        assertThat(s.incomingEnded()).isNull();
        assertThat(s.pipelining(t + 1_000 + WINDOW - 1)).as("within the window after the overlap").isTrue();
        assertThat(s.pipelining(t + 1_000 + WINDOW)).as("past it").isFalse();
    }
}
