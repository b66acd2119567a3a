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

        var rows = TopCommand.rows(before, after);

        assertThat(rows).singleElement().satisfies(r -> assertThat(r).containsEntry("error", "no answer within 5 s"));
        assertThat(TopCommand.onceStatus(rows)).isEqualTo(1);
        assertThat(TopCommand.onceStatus(java.util.List.of())).isZero();
    }
}
