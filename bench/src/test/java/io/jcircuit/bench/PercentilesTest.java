package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PercentilesTest {

    private static final long[] HUNDRED = hundredMicros();

    private static long[] hundredMicros() {
        long[] nanos = new long[100];
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] = (i + 1) * 1_000L; // 1 µs .. 100 µs
        }
        return nanos;
    }

    @Test
    void shouldTakeTheNearestRankInMicroseconds() {
        assertThat(Percentiles.micros(HUNDRED, 50)).isEqualTo(50.0);
        assertThat(Percentiles.micros(HUNDRED, 99)).isEqualTo(99.0);
        assertThat(Percentiles.micros(HUNDRED, 100)).isEqualTo(100.0);
        assertThat(Percentiles.micros(HUNDRED, 0.5)).isEqualTo(1.0);
    }

    @Test
    void shouldRoundTheRankUpForFewSamples() {
        assertThat(Percentiles.micros(new long[] {1_500, 2_500, 9_000}, 50)).isEqualTo(2.5);
        assertThat(Percentiles.micros(new long[] {7_000}, 99)).isEqualTo(7.0);
    }

    @Test
    void shouldRejectNoSamplesAndPercentilesOutOfRange() {
        assertThatThrownBy(() -> Percentiles.micros(new long[0], 50)).hasMessageContaining("no samples");
        assertThatThrownBy(() -> Percentiles.micros(HUNDRED, 0)).hasMessageContaining("(0, 100]");
        assertThatThrownBy(() -> Percentiles.micros(HUNDRED, 101)).hasMessageContaining("101");
    }
}
