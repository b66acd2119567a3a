package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultsTest {

    @Test
    void shouldWriteEveryKeyInOrderWithRatesWholeAndRoundTripsToOneDecimal() {
        String json = Figures.pass(4.66, 8.04, 12.0).toJson();

        assertThat(json).isEqualTo("{\"tcp_rtt_p50_us\":4.7,\"rmi_rtt_p50_us\":9.0,\"circuit_rtt_p50_us\":8.0,"
            + "\"circuit_rtt_p99_us\":16.1,\"rmi_calls_per_s_8\":60000,\"circuit_calls_per_s_8\":150000,\"circuit_calls_per_s_8_metrics\":150000,\"circuit_calls_per_s_8_nometrics\":155000,\"circuit_metrics_ab_spread_pct\":4.0,"
            + "\"tcp_pipelined_msgs_per_s\":2000000,\"circuit_async_calls_per_s\":500000,"
            + "\"circuit_go_rtt_p50_us\":12.0,\"chan_items_per_s\":500000}");
    }

    @Test
    void shouldWriteTheSpawnFiguresInOrderToOneDecimal() {
        String json = Figures.spawn(44.63, 251.25, 1.84, 80.04).toJson();

        assertThat(json).isEqualTo("{\"jvm_hello_ms\":44.6,\"spawn_cold_p50_ms\":251.3,\"spawn_warm_p50_ms\":1.8,"
            + "\"worker_idle_rss_mb\":80.0}");
    }

    @Test
    void shouldReadBackWhatItWrites() {
        Results r = Figures.pass(4.7, 8.0, 12.0);
        Results s = Figures.spawn(44.6, 251.3, 1.8, 80.0);

        assertThat(Results.parseJson(" " + r.toJson() + "\n").asMap()).isEqualTo(r.asMap());
        assertThat(Results.parseJson(s.toJson()).asMap()).isEqualTo(s.asMap());
    }

    @Test
    void shouldSuffixTheKeysOfThePinnedPassAndAppendTheSpawnFiguresUnsuffixedWhenMerging() {
        Results merged = Results.merge(Figures.pass(6.0, 10.0, 15.0), Figures.pass(4.7, 8.0, 12.0),
            Figures.spawn(45.0, 250.0, 1.5, 60.0));

        int calls = Metric.of(Metric.Group.CALLS).size();
        assertThat(merged.asMap()).hasSize(2 * calls + Metric.of(Metric.Group.SPAWN).size());
        assertThat(merged.get("tcp_rtt_p50_us")).isEqualTo(6.0);
        assertThat(merged.get("tcp_rtt_p50_us_1cpu")).isEqualTo(4.7);
        assertThat(merged.get(Metric.CIRCUIT_GO_RTT_P50, true)).isEqualTo(12.0);
        assertThat(merged.get(Metric.SPAWN_COLD_P50)).isEqualTo(250.0);
        assertThat(merged.asMap().keySet()).doesNotContain("jvm_hello_ms_1cpu", "spawn_cold_p50_ms_1cpu");
        assertThat(List.copyOf(merged.asMap().keySet()).subList(2 * calls - 1, merged.asMap().size()))
            .containsExactly("chan_items_per_s_1cpu", "jvm_hello_ms", "spawn_cold_p50_ms", "spawn_warm_p50_ms",
                "worker_idle_rss_mb");
    }

    @Test
    void shouldKeepOnlyTheFiguresOfAGroupAndDropAChildsNotes() {
        Results parsed = Results.parseJson("{\"worker_idle_rss_mb\":70.5,\"first_spawn_ms\":4000.0,\"jvm_hello_ms\":40.0,"
            + "\"spawn_warm_p50_ms\":1.5,\"spawn_cold_p50_ms\":300.0}");

        assertThat(parsed.figures(Metric.Group.SPAWN).asMap().keySet())
            .containsExactly("jvm_hello_ms", "spawn_cold_p50_ms", "spawn_warm_p50_ms", "worker_idle_rss_mb");
        assertThatThrownBy(() -> parsed.figures(Metric.Group.CALLS)).hasMessageContaining("'tcp_rtt_p50_us'");
    }

    @Test
    void shouldNameAMissingFigure() {
        Map<Metric, Double> partial = new EnumMap<>(Metric.class);
        partial.put(Metric.TCP_RTT_P50, 4.7);
        Map<Metric, Double> spawn = new EnumMap<>(Metric.class);
        spawn.put(Metric.JVM_HELLO, 40.0);

        assertThatThrownBy(() -> Results.of(Metric.Group.CALLS, partial)).hasMessageContaining("rmi_rtt_p50_us");
        assertThatThrownBy(() -> Results.of(Metric.Group.SPAWN, spawn)).hasMessageContaining("spawn_cold_p50_ms");
        assertThatThrownBy(() -> Figures.pass(1, 2, 3).get("nope")).hasMessageContaining("'nope'");
    }

    @Test
    void shouldHaveNoPinnedKeyForASpawnFigure() {
        assertThat(Metric.SPAWN_WARM_P50.key(false)).isEqualTo("spawn_warm_p50_ms");
        assertThatThrownBy(() -> Metric.SPAWN_WARM_P50.key(true)).hasMessageContaining("measured once");
    }

    @Test
    void shouldRejectTextThatIsNotAFlatObjectOfNumbers() {
        assertThatThrownBy(() -> Results.parseJson("[1]")).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> Results.parseJson("{\"a\":x}")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> Results.parseJson("{a:1}")).hasMessageContaining("bad member");
    }

    @Test
    void shouldRefuseToWriteAFigureThatIsNotFinite() {
        assertThatThrownBy(() -> Results.format("tcp_rtt_p50_us", Double.NaN)).hasMessageContaining("tcp_rtt_p50_us");
    }
}
