package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class TableTest {

    /**
     * Unpinned: circuit 10 µs vs tcp 6 µs; pinned: circuit 8 µs vs tcp 4.7 µs, go 20 µs (> 3 × 4.7).
     * Spawn: hello 40 ms, cold 200 ms (5 ×), warm 3.5 ms, idle worker 80 MB.
     */
    private static final Results ALL = Results.merge(Figures.pass(6.0, 10.0, 15.0), Figures.pass(4.7, 8.0, 20.0),
        Figures.spawn(40.0, 200.0, 3.5, 80.0));

    private static String table(Results r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Table.print(r, Plan.QUICK, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String row(String key) {
        return row(ALL, key);
    }

    private static String row(Results r, String key) {
        return Arrays.stream(table(r).split("\\R")).filter(l -> l.startsWith(key + " ")).findFirst().orElseThrow();
    }

    @Test
    void shouldShowEveryFigureOfBothPasses() {
        for (Metric m : Metric.of(Metric.Group.CALLS)) {
            assertThat(table(ALL)).contains(m.key() + " ");
        }
        assertThat(row("circuit_rtt_p50_us")).contains("10.0 us").contains("8.0 us");
        assertThat(row("circuit_calls_per_s_8")).contains("150.0 k/s");
        assertThat(row("tcp_pipelined_msgs_per_s")).contains("2.00 M/s");
    }

    @Test
    void shouldShowEverySpawnFigureOnceWithItsUnit() {
        for (Metric m : Metric.of(Metric.Group.SPAWN)) {
            assertThat(table(ALL)).contains(m.key() + " ");
        }
        assertThat(table(ALL)).doesNotContain("_1cpu").contains("spawn (once, unpinned)");
        assertThat(row("jvm_hello_ms")).contains("40.0 ms").contains("floor");
        assertThat(row("spawn_cold_p50_ms")).contains("200.0 ms");
        assertThat(row("spawn_warm_p50_ms")).contains("3.5 ms");
        assertThat(row("worker_idle_rss_mb")).contains("80.0 MB");
    }

    @Test
    void shouldTakeRatiosAgainstTheRawTcpFigureOfTheSamePassAndEightCallersAgainstRmi() {
        assertThat(Table.ratio(ALL, Metric.CIRCUIT_RTT_P50, false)).isEqualTo("1.67"); // 10 / 6
        assertThat(Table.ratio(ALL, Metric.CIRCUIT_RTT_P50, true)).isEqualTo("1.70");  // 8 / 4.7
        assertThat(Table.ratio(ALL, Metric.CIRCUIT_ASYNC, true)).isEqualTo("0.250");   // 500 k / 2 M
        assertThat(Table.ratio(ALL, Metric.CHAN_ITEMS, false)).isEqualTo("0.250");     // 500 k / 2 M
        assertThat(Table.ratio(ALL, Metric.CIRCUIT_CALLS_8, false)).isEqualTo("2.50");  // 150 k / RMI's 60 k
        assertThat(Table.ratio(ALL, Metric.RMI_CALLS_8, true)).isEqualTo("1.00");
        assertThat(Table.ratio(ALL, Metric.TCP_RTT_P50, true)).isEqualTo("1.00");
    }

    @Test
    void shouldTakeSpawnRatiosAgainstTheHelloWorldJvmAndNoneForMemory() {
        assertThat(Table.ratio(ALL, Metric.SPAWN_COLD_P50, false)).isEqualTo("5.00");   // 200 / 40
        assertThat(Table.ratio(ALL, Metric.SPAWN_WARM_P50, false)).isEqualTo("0.0875"); // 3.5 / 40
        assertThat(Table.ratio(ALL, Metric.JVM_HELLO, false)).isEqualTo("1.00");
        assertThat(Table.ratio(ALL, Metric.WORKER_IDLE_RSS, false)).isEmpty();
    }

    @Test
    void shouldJudgeEachTargetInEachPass() {
        assertThat(row("circuit_rtt_p50_us")).contains("<= 2x tcp at 1 CPU; < rmi").endsWith("NO/yes"); // 10 > rmi 9
        assertThat(row("circuit_calls_per_s_8")).endsWith("yes/yes");                             // 150 k >= 2 × 60 k
        assertThat(row("circuit_calls_per_s_8_nometrics")).endsWith("yes/yes");                   // 150 k >= 0.95 × 155 k
        assertThat(row("circuit_async_calls_per_s")).endsWith("NO/NO");                           // 500 k < 1 M
        assertThat(row("circuit_go_rtt_p50_us")).endsWith("-/NO");                                // 1cpu only: 20 > 14.1
        assertThat(row("tcp_rtt_p50_us")).contains("floor");
        assertThat(row("rmi_calls_per_s_8")).contains("base for 8 callers");
    }

    @Test
    void shouldCallAMetricsCostThatTheRunsOwnSpreadExplainsUnresolved() {
        Results base = Figures.pass(6.0, 10.0, 15.0);
        Results spawn = Figures.spawn(40.0, 200.0, 3.5, 80.0);
        // unpinned: 10 % below with one side's windows 3 % apart (5 + 2 × 3 >= 10); 1cpu: windows 2 % apart (9 < 10)
        Results r = Results.merge(Figures.withMetricsAb(base, 90_000, 100_000, 3.0),
            Figures.withMetricsAb(base, 90_000, 100_000, 2.0), spawn);
        assertThat(row(r, "circuit_calls_per_s_8_nometrics")).endsWith("?/NO");
        assertThat(row(r, "circuit_metrics_ab_spread_pct")).contains("3.0 %").contains("2.0 %");

        // within the budget whatever the spread; faster with metrics counts as met too
        Results met = Results.merge(Figures.withMetricsAb(base, 95_500, 100_000, 30.0),
            Figures.withMetricsAb(base, 120_000, 100_000, 0.0), spawn);
        assertThat(row(met, "circuit_calls_per_s_8_nometrics")).endsWith("yes/yes");
        assertThat(table(r)).contains("\"?\": short of the budget by less than twice");
    }

    @Test
    void shouldJudgeEachSpawnTargetOnce() {
        assertThat(row("spawn_cold_p50_ms")).contains("<= 6x jvm_hello").endsWith(" yes"); // 200 <= 240
        assertThat(row("spawn_warm_p50_ms")).contains("<= 2 ms").endsWith(" NO");          // 3.5 > 2
        assertThat(row("worker_idle_rss_mb")).contains("<= 64 MB").endsWith(" NO");        // 80 > 64

        Results slowCold = Results.merge(Figures.pass(6.0, 10.0, 15.0), Figures.pass(4.7, 8.0, 20.0),
            Figures.spawn(40.0, 241.0, 2.0, 64.0));
        assertThat(row(slowCold, "spawn_cold_p50_ms")).endsWith(" NO");  // 241 > 6 × 40
        assertThat(row(slowCold, "spawn_warm_p50_ms")).endsWith(" yes"); // 2 <= 2
        assertThat(row(slowCold, "worker_idle_rss_mb")).endsWith(" yes");
    }
}
