package io.jcircuit.cli.console;

import io.jcircuit.runtime.ops.CallStats;
import io.jcircuit.runtime.ops.JvmStats;
import io.jcircuit.runtime.ops.MetricsSnapshot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FlowCountersTest {

    private static final JvmStats JVM = new JvmStats(0, 0, 0, 0, 0, 0, 1, 1, 0, -1, 0, 0);

    private static CallStats row(String direction, String peer, String method, long calls, long out, long in, long p99) {
        return new CallStats(direction, peer, method, calls, 0, 0, out, in, calls, 1, 1, p99, p99, 1);
    }

    @Test
    void shouldSumTheOutgoingRowsOfEachPeerOverMethods() {
        MetricsSnapshot m = new MetricsSnapshot("RA", 1_000, 1_000, List.of(
            row("OUT", "RB", "get", 10, 100, 50, 30), row("OUT", "RB", "put", 5, 10, 5, 90),
            row("IN", "RB", "get", 99, 1, 1, 1), row("OUT", "RC", "get", 1, 1, 1, 7)), JVM);

        Map<String, FlowCounters> byPeer = FlowCounters.outByPeer(m);

        assertThat(byPeer).containsOnlyKeys("RB", "RC");
        assertThat(byPeer.get("RB")).isEqualTo(new FlowCounters(15, 165, 90));
    }

    @Test
    void shouldLeaveOutTheSamplersOwnCallsToOpsServices() {
        // a console that a host daemon serves samples through the daemon's runtime, which is under /worker
        MetricsSnapshot m = new MetricsSnapshot("RA", 1_000, 1_000, List.of(
            row("OUT", "RB", "Ops.info", 10, 100, 50, 30), row("OUT", "RB", "dial circuit.ops", 1, 10, 5, 90),
            row("OUT", "RB", "Shop.buy", 3, 30, 3, 7)), JVM);

        assertThat(FlowCounters.outByPeer(m, true).get("RB")).isEqualTo(new FlowCounters(3, 33, 7));
        assertThat(FlowCounters.outByPeer(m).get("RB")).as("another runtime's calls to ops services count")
            .isEqualTo(new FlowCounters(14, 198, 90));
    }

    @Test
    void shouldRateTheDifferenceOverTheSecondsBetweenTwoSamples() {
        CircuitPicture.Flow f = new FlowCounters(300, 30_000, 12).flow("RA", "RB", new FlowCounters(100, 10_000, 9), 2.0);

        assertThat(f.callsPerSec()).isEqualTo(100.0);
        assertThat(f.bytesPerSec()).isEqualTo(10_000.0);
        assertThat(f.calls()).isEqualTo(300);
        assertThat(f.p99Micros()).isEqualTo(12);
    }

    @Test
    void shouldRateZeroOnTheFirstSampleAndCountFromZeroWhenCountersWentDown() {
        assertThat(new FlowCounters(300, 3_000, 1).flow("RA", "RB", null, 0).callsPerSec()).isZero();
        assertThat(new FlowCounters(20, 200, 1).flow("RA", "RB", new FlowCounters(500, 5_000, 1), 2.0).callsPerSec())
            .isEqualTo(10.0);
    }
}
