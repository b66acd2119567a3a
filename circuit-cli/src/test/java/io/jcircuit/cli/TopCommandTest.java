package io.jcircuit.cli;

import io.jcircuit.Address;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code top --once}'s table and status when a worker does not answer; the live runs are in OpsCommandsTest. */
class TopCommandTest {

    private static Entry worker() {
        WorkerId id = WorkerId.random();
        return new Entry("/worker/" + id, id, new Address("127.0.0.1", 1), "h", 42, Instant.EPOCH, Map.of());
    }

    @Test
    void aWorkerThatDidNotAnswerIsARowAndMakesTheStatusOne() {
        Entry silent = worker();
        Map<String, MetricsSampler.Sample> before = new LinkedHashMap<>();
        Map<String, MetricsSampler.Sample> after = new LinkedHashMap<>();
        after.put(silent.worker().toString(), new MetricsSampler.Sample(silent, null, "no answer within 5 s"));

        var rows = TopCommand.rows(before, after, null, Map.of());

        assertThat(rows).singleElement().satisfies(r -> assertThat(r).containsEntry("error", "no answer within 5 s"));
        assertThat(TopCommand.onceStatus(rows)).isEqualTo(1);
        assertThat(TopCommand.onceStatus(java.util.List.of())).isZero();
    }

    /** A worker that went is in the next table as gone, and in no later one (a probe saw it in every table after). */
    @Test
    void aWorkerThatLeftIsShownGoneInOneTableOnly() {
        Entry stays = worker();
        Entry goes = worker();
        MetricsSampler.Sample s1 = new MetricsSampler.Sample(stays, null, null);
        MetricsSampler.Sample g1 = new MetricsSampler.Sample(goes, null, null);
        TopCommand.Frames frames = new TopCommand.Frames(Map.of(stays.worker().toString(), s1, goes.worker().toString(), g1),
            Map.of(stays.worker(), "h1", goes.worker(), "h2"));

        // the worker that went has left its host's directory too: its row keeps the host it was seen on
        Map<String, MetricsSampler.Sample> second = frames.next(Map.of(stays.worker().toString(), s1), Map.of(stays.worker(), "h1"));
        assertThat(second).containsOnlyKeys(stays.worker().toString(), goes.worker().toString());
        assertThat(second.get(goes.worker().toString()).error()).isEqualTo("left the namespace between the two samples");
        assertThat(frames.daemons()).containsOnly(Map.entry(stays.worker(), "h1"), Map.entry(goes.worker(), "h2"));

        assertThat(frames.before()).containsOnlyKeys(stays.worker().toString());
        assertThat(frames.next(Map.of(stays.worker().toString(), s1), Map.of(stays.worker(), "h1")))
            .containsOnlyKeys(stays.worker().toString());
        assertThat(frames.daemons()).containsOnlyKeys(stays.worker());
    }

    @Test
    void theToolsOwnSamplingIsNotTheWorkersTraffic() {
        Entry w = worker();
        String tool = WorkerId.random().toString();
        String caller = WorkerId.random().toString();
        var jvm = new io.jcircuit.runtime.ops.JvmStats(1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0);
        java.util.function.BiFunction<Long, Long, io.jcircuit.runtime.ops.MetricsSnapshot> snapshot = (at, n) ->
            new io.jcircuit.runtime.ops.MetricsSnapshot(w.worker().toString(), at, at, java.util.List.of(
                stats(tool, "Ops.metrics", n, 80_000), stats(caller, "Echo.echo", 10 * n, 50)), jvm);
        Map<String, MetricsSampler.Sample> before = Map.of(w.worker().toString(),
            new MetricsSampler.Sample(w, snapshot.apply(1_000L, 1L), null));
        Map<String, MetricsSampler.Sample> after = Map.of(w.worker().toString(),
            new MetricsSampler.Sample(w, snapshot.apply(2_000L, 2L), null));

        var rows = TopCommand.rows(before, after, tool, Map.of());

        // 10 calls of the real caller in the second between the samples; the tool's one call and its p99 left out
        assertThat(rows).singleElement().satisfies(r -> {
            assertThat(r).containsEntry("callsInPerSec", 10.0).containsEntry("p99InMicros", 50L);
        });
    }

    @Test
    void aPeerThatLeftBetweenTheSamplesDoesNotTakeTheOthersRatesWithIt() {
        Entry w = worker();
        String steady = WorkerId.random().toString();
        String left = WorkerId.random().toString();
        String came = WorkerId.random().toString();
        var jvm = new io.jcircuit.runtime.ops.JvmStats(1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0);
        var before = new io.jcircuit.runtime.ops.MetricsSnapshot(w.worker().toString(), 1_000, 1_000, java.util.List.of(
            stats(steady, "Echo.echo", 100, 50), stats(left, "Echo.echo", 5_000, 50)), jvm);
        // the worker forgot the peer that left (its session ended); a new peer made 20 calls
        var after = new io.jcircuit.runtime.ops.MetricsSnapshot(w.worker().toString(), 2_000, 2_000, java.util.List.of(
            stats(steady, "Echo.echo", 225, 50), stats(came, "Echo.echo", 20, 50)), jvm);

        var rows = TopCommand.rows(Map.of(w.worker().toString(), new MetricsSampler.Sample(w, before, null)),
            Map.of(w.worker().toString(), new MetricsSampler.Sample(w, after, null)), null, Map.of());

        // 125 + 20 calls in the second (before: the totals 5,100 then 245, so 0 calls/s)
        assertThat(rows).singleElement().satisfies(r -> assertThat(r).containsEntry("callsInPerSec", 145.0));
    }

    @Test
    void aRowThatRestartedWithMoreCallsThanBeforeCountsWhole() {
        String relinked = WorkerId.random().toString();
        String steady = WorkerId.random().toString();
        var jvm = new io.jcircuit.runtime.ops.JvmStats(1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0);
        var before = new io.jcircuit.runtime.ops.MetricsSnapshot("w", 1_000, 1_000, java.util.List.of(
            new io.jcircuit.runtime.ops.CallStats("IN", relinked, "Echo.echo", 10, 5, 0, 10_000, 0, 10, 1, 1, 1, 1, 1),
            new io.jcircuit.runtime.ops.CallStats("IN", steady, "Echo.echo", 100, 0, 0, 1_000, 0, 100, 1, 1, 1, 1, 1)), jvm);
        // the relinked peer's row began again (forgotten, then linked): 12 calls, none failed, 120 bytes
        var after = new io.jcircuit.runtime.ops.MetricsSnapshot("w", 2_000, 2_000, java.util.List.of(
            new io.jcircuit.runtime.ops.CallStats("IN", relinked, "Echo.echo", 12, 0, 0, 120, 0, 12, 1, 1, 1, 1, 1),
            new io.jcircuit.runtime.ops.CallStats("IN", steady, "Echo.echo", 110, 3, 0, 1_500, 0, 110, 1, 1, 1, 1, 1)), jvm);

        MetricsSampler.Totals grown = MetricsSampler.Totals.grown(before, after, "IN", null);

        // before: its calls had grown (10 to 12), so its errors and bytes were taken as grown too, negatively
        assertThat(grown.calls()).isEqualTo(12 + 10);
        assertThat(grown.errors()).isEqualTo(3);
        assertThat(grown.bytes()).isEqualTo(120 + 500);
    }

    private static io.jcircuit.runtime.ops.CallStats stats(String peer, String method, long calls, long p99) {
        return new io.jcircuit.runtime.ops.CallStats("IN", peer, method, calls, 0, 0, 0, 0, calls, p99, p99, p99, p99, p99);
    }
}
