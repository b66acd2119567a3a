package io.jcircuit.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** All three passes end to end with real child JVMs, at the smoke plan's tiny sizes. */
@Tag("slow")
class BenchSmokeTest {

    @Test
    void shouldPrintOneJsonObjectWithEveryFigureOfEveryPassPositive() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = Bench.run(Plan.SMOKE, true, print(out), print(err));

        assertThat(code).as("exit code; stderr: %s", err).isZero();
        String json = out.toString(StandardCharsets.UTF_8);
        assertThat(json.lines()).hasSize(1);
        Results r = Results.parseJson(json);
        assertThat(r.asMap()).hasSize(2 * Metric.of(Metric.Group.CALLS).size() + Metric.of(Metric.Group.SPAWN).size());
        for (Metric m : Metric.of(Metric.Group.CALLS)) {
            assertThat(r.get(m, false)).as(m.key(false)).isPositive();
            assertThat(r.get(m, true)).as(m.key(true)).isPositive();
        }
        for (Metric m : Metric.of(Metric.Group.SPAWN)) {
            assertThat(r.get(m)).as(m.key()).isPositive();
        }
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("bench: spawn pass (").contains("idle worker VmRSS")
            .contains("bench: unpinned pass: 8 callers, windows in turn, k calls/s: RMI [")
            .contains("bench: 1cpu pass (both JVMs under taskset -c 0): 8 callers, windows in turn");
    }

    private static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }
}
