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

    /** A null in the options is named (a probe's null environment value gave a bare "NullPointerException: null"). */
    @Test
    void shouldNameANullAmongTheOptions() {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("GONE", null);
        assertThatThrownBy(() -> SpawnOptions.defaults().withEnv(env)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("null value for GONE");
        assertThatThrownBy(() -> SpawnOptions.defaults().withJvmArgs("-Dx=y", null)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("jvmArgs holds a null");
        assertThat(SpawnOptions.defaults().withJvmArgs("-Dx=y").jvmArgs()).containsExactly("-Dx=y");
    }

    /** A null host is refused, naming ANY_HOST (before, it spawned on any host without a word). */
    @Test
    void shouldRefuseANullHostNamingAnyHost() {
        try (CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().build())) {
            assertThatThrownBy(() -> rt.spawn(null, List.of(), () -> 1, SpawnOptions.defaults()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("Circuit.ANY_HOST");
            assertThatThrownBy(() -> rt.exec(null, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("Circuit.ANY_HOST");
        }
    }
}
