package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.CircuitRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Two local circuits in one JVM: same host names, same anchors, and still they never see each other. */
@Tag("slow")
class TwoCircuitsTest {

    @RegisterExtension
    static final LocalCircuit red = LocalCircuit.withHosts(1);
    @RegisterExtension
    static final LocalCircuit blue = LocalCircuit.withHosts(1);

    @Test
    void shouldKeepEachCircuitsHostsAndWorkersToItself() {
        CircuitRuntime redClient = red.newClient();
        CircuitRuntime blueClient = blue.newClient();

        Spawned<List<WorkerId>> redWorker = redClient.spawn(Circuit.ANY_HOST, List.of("/team"), TwoCircuitsTest::teamSeenFromInside,
            SpawnOptions.defaults().daemonized()); // stays after its function, so the test can look at it
        Spawned<List<WorkerId>> blueWorker = blueClient.spawn(Circuit.ANY_HOST, List.of("/team"), TwoCircuitsTest::teamSeenFromInside,
            SpawnOptions.defaults().daemonized());

        assertThat(red.zookeeper()).isNotEqualTo(blue.zookeeper());
        assertThat(red.stateDir()).isNotEqualTo(blue.stateDir());
        assertThat(redWorker.result()).containsExactly(redWorker.worker().id());
        assertThat(blueWorker.result()).containsExactly(blueWorker.worker().id());
        assertThat(workers(redClient, "/host/host-1"))
            .contains(red.host("host-1").runtime().id(), redWorker.worker().id())
            .doesNotContain(blue.host("host-1").runtime().id(), blueWorker.worker().id());
        assertThat(workers(blueClient, "/worker"))
            .contains(blueClient.id(), blueWorker.worker().id())
            .doesNotContain(redClient.id(), redWorker.worker().id());
        redWorker.worker().kill();
        blueWorker.worker().kill();
    }

    /** Runs in a spawned worker: the members of {@code /team} that its own circuit shows it. */
    private static List<WorkerId> teamSeenFromInside() {
        return workers(Circuit.current(), "/team");
    }

    private static List<WorkerId> workers(Circuit c, String dir) {
        return c.anchors().list(dir).entries().stream().map(Entry::worker).toList();
    }
}
