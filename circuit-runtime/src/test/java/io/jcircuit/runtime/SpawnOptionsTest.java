package io.jcircuit.runtime;

import io.jcircuit.SpawnOptions;
import io.jcircuit.WorkerId;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The owner of {@link SpawnOptions}: one lifetime at a time, kept by the other options' withers. */
class SpawnOptionsTest {

    private static final WorkerId OWNER = WorkerId.parse("R0123456789abcdef");

    @Test
    void shouldKeepTheOwnerThroughTheOtherOptionsAndDropItWhenDaemonized() {
        SpawnOptions owned = SpawnOptions.defaults().daemonized().ownedBy(OWNER)
            .withDeployment("app:2").withMaxHeapMb(64).withJvmArgs("-Dx=y").withEnv(Map.of("A", "b"));
        assertThat(owned.owner()).isEqualTo(OWNER);
        assertThat(owned.daemonize()).as("an owner ends the worker: not daemonized").isFalse();
        assertThat(owned.deployment()).isEqualTo("app:2");
        SpawnOptions daemon = owned.daemonized();
        assertThat(daemon.daemonize()).isTrue();
        assertThat(daemon.owner()).isNull();
        assertThat(SpawnOptions.defaults().owner()).isNull();
    }

    @Test
    void shouldRefuseADaemonizedWorkerWithAnOwner() {
        assertThatThrownBy(() -> new SpawnOptions(List.of(), 0, Map.of(), true, null, OWNER))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("cannot also end with " + OWNER);
        assertThatThrownBy(() -> SpawnOptions.defaults().ownedBy(null)).isInstanceOf(NullPointerException.class);
    }
}
