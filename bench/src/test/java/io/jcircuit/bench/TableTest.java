package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class TableTest {

    /** Unpinned: circuit 10 µs vs tcp 6 µs; pinned: circuit 8 µs vs tcp 4.7 µs, go 20 µs (> 3 × 4.7). */
    private static final Results BOTH = Results.merge(Figures.pass(6.0, 10.0, 15.0), Figures.pass(4.7, 8.0, 20.0));

    private static String table() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Table.print(BOTH, Plan.QUICK, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String row(String key) {
        return Arrays.stream(table().split("\\R")).filter(l -> l.startsWith(key + " ")).findFirst().orElseThrow();
    }

    @Test
    void shouldShowEveryFigureOfBothPasses() {
        for (Metric m : Metric.values()) {
            assertThat(table()).contains(m.key() + " ");
        }
        assertThat(row("circuit_rtt_p50_us")).contains("10.0 us").contains("8.0 us");
        assertThat(row("circuit_calls_per_s_8")).contains("150.0 k/s");
        assertThat(row("tcp_pipelined_msgs_per_s")).contains("2.00 M/s");
    }

    @Test
    void shouldTakeRatiosAgainstTheRawTcpFigureOfTheSamePass() {
        assertThat(Table.ratio(BOTH, Metric.CIRCUIT_RTT_P50, false)).isEqualTo("1.67"); // 10 / 6
        assertThat(Table.ratio(BOTH, Metric.CIRCUIT_RTT_P50, true)).isEqualTo("1.70");  // 8 / 4.7
        assertThat(Table.ratio(BOTH, Metric.CIRCUIT_ASYNC, true)).isEqualTo("0.250");   // 500 k / 2 M
        assertThat(Table.ratio(BOTH, Metric.RMI_CALLS_8, false)).isEqualTo("0.0300");   // 60 k / 2 M
        assertThat(Table.ratio(BOTH, Metric.TCP_RTT_P50, true)).isEqualTo("1.00");
    }

    @Test
    void shouldJudgeEachTargetInEachPass() {
        assertThat(row("circuit_rtt_p50_us")).contains("<= 2x tcp at 1 CPU; < rmi").endsWith("NO/yes"); // 10 > rmi 9
        assertThat(row("circuit_calls_per_s_8")).endsWith("yes/yes");                             // 150 k >= 2 × 60 k
        assertThat(row("circuit_async_calls_per_s")).endsWith("NO/NO");                           // 500 k < 1 M
        assertThat(row("circuit_go_rtt_p50_us")).endsWith("-/NO");                                // 1cpu only: 20 > 14.1
        assertThat(row("tcp_rtt_p50_us")).contains("floor");
    }
}
