package io.jcircuit.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The spawn figures measured for real, in this JVM, through two host daemons with an embedded ZooKeeper. */
@Tag("slow")
class SpawnProbeTest {

    @Test
    void shouldMeasureEverySpawnFigureAndLeaveNoJvmBehind(@TempDir Path state) throws Exception {
        SpawnProbe.Measured m = SpawnProbe.measure(Plan.SMOKE, state);

        for (Metric metric : Metric.of(Metric.Group.SPAWN)) {
            assertThat(m.figures().get(metric)).as(metric.key()).isPositive();
        }
        assertThat(m.figures().get(Metric.SPAWN_COLD_P50)).isGreaterThan(m.figures().get(Metric.SPAWN_WARM_P50));
        assertThat(m.note()).contains("first spawn on each fresh host").contains("idle worker VmRSS");
        // Workers notice their spawner is gone within a second or two; a loaded two-core machine takes longer.
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.current().descendants().noneMatch(ProcessHandle::isAlive));
    }
}
