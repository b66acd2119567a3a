package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultsTest {

    @Test
    void shouldWriteEveryKeyInOrderWithRatesWholeAndRoundTripsToOneDecimal() {
        String json = Figures.pass(4.66, 8.04, 12.0).toJson();

        assertThat(json).isEqualTo("{\"tcp_rtt_p50_us\":4.7,\"rmi_rtt_p50_us\":9.0,\"circuit_rtt_p50_us\":8.0,"
            + "\"circuit_rtt_p99_us\":16.1,\"rmi_calls_per_s_8\":60000,\"circuit_calls_per_s_8\":150000,"
            + "\"tcp_pipelined_msgs_per_s\":2000000,\"circuit_async_calls_per_s\":500000,"
            + "\"circuit_go_rtt_p50_us\":12.0}");
    }

    @Test
    void shouldReadBackWhatItWrites() {
        Results r = Figures.pass(4.7, 8.0, 12.0);

        assertThat(Results.parseJson(" " + r.toJson() + "\n").asMap()).isEqualTo(r.asMap());
    }

    @Test
    void shouldSuffixTheKeysOfThePinnedPassWhenMerging() {
        Results merged = Results.merge(Figures.pass(6.0, 10.0, 15.0), Figures.pass(4.7, 8.0, 12.0));

        assertThat(merged.asMap()).hasSize(2 * Metric.values().length);
        assertThat(merged.get("tcp_rtt_p50_us")).isEqualTo(6.0);
        assertThat(merged.get("tcp_rtt_p50_us_1cpu")).isEqualTo(4.7);
        assertThat(merged.get(Metric.CIRCUIT_GO_RTT_P50, true)).isEqualTo(12.0);
        assertThat(merged.asMap().keySet()).last().isEqualTo("circuit_go_rtt_p50_us_1cpu");
    }

    @Test
    void shouldNameAMissingFigure() {
        Map<Metric, Double> partial = new EnumMap<>(Metric.class);
        partial.put(Metric.TCP_RTT_P50, 4.7);

        assertThatThrownBy(() -> Results.of(partial)).hasMessageContaining("rmi_rtt_p50_us");
        assertThatThrownBy(() -> Figures.pass(1, 2, 3).get("nope")).hasMessageContaining("'nope'");
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
