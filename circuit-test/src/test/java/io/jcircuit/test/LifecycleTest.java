package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.host.HostService;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * When {@link LocalCircuit} starts and stops, and what it injects. Probe classes run through the
 * JUnit launcher in this JVM; the test then checks what happened around them. No worker JVM starts
 * here, only ZooKeeper and host daemons.
 */
class LifecycleTest {

    /** The probes record what they saw here; each test clears it first. */
    static final List<Object> seen = new CopyOnWriteArrayList<>();
    static final AtomicReference<CircuitRuntime> injectedClient = new AtomicReference<>();

    @ExtendWith(Probes.OnlyWhenProbing.class)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class StaticFieldProbe {
        @RegisterExtension
        static final LocalCircuit circuit = LocalCircuit.withHosts(1);

        @Test
        @Order(1)
        void getsTwoClientsInTheCircuit(Circuit client, CircuitRuntime another) {
            injectedClient.set((CircuitRuntime) client);
            seen.add(circuit.zookeeper());
            seen.add(circuit.stateDir());
            assertThat(client).isNotSameAs(another);
            assertThat(client.anchors().list("/worker").entries()).extracting(Entry::worker)
                .contains(client.id(), another.id());
        }

        @Test
        @Order(2)
        void seesTheFirstTestsClientsGone(LocalCircuit injected) {
            seen.add(circuit.zookeeper());
            assertThat(injected).isSameAs(circuit);
            WorkerId first = injectedClient.get().id();
            CircuitRuntime observer = circuit.newClient();
            await().untilAsserted(() -> assertThat(observer.anchors().list("/worker").entries())
                .extracting(Entry::worker).containsOnly(observer.id(), circuit.host("host-1").runtime().id()));
            assertThat(first).isNotEqualTo(observer.id());
        }
    }

    @Test
    void shouldRunAStaticCircuitOnceForTheClassAndCloseInjectedClientsAfterEachTest() {
        seen.clear();
        TestExecutionSummary run = Probes.run(StaticFieldProbe.class);

        assertThat(run.getTestsSucceededCount()).as(Probes.failures(run)).isEqualTo(2);
        assertThat(seen).hasSize(3);
        assertThat(seen.get(2)).as("one ZooKeeper for both tests").isEqualTo(seen.get(0));
        assertThat((Path) seen.get(1)).as("state deleted after the class").doesNotExist();
        assertThat(StaticFieldProbe.circuit.isRunning()).isFalse();
        assertThatThrownBy(() -> injectedClient.get().anchors().list("/worker"))
            .as("the injected client is closed").hasMessageContaining("is closed");
    }

    @ExtendWith(Probes.OnlyWhenProbing.class)
    static class InstanceFieldProbe {
        @RegisterExtension
        final LocalCircuit circuit = LocalCircuit.withHosts(1);

        @Test
        void first() {
            record();
        }

        @Test
        void second() {
            record();
        }

        private void record() {
            assertThat(circuit.isRunning()).isTrue();
            seen.add(circuit);
            seen.add(circuit.zookeeper());
            seen.add(circuit.stateDir());
        }
    }

    @Test
    void shouldRunAnInstanceFieldCircuitForEachTest() {
        seen.clear();
        TestExecutionSummary run = Probes.run(InstanceFieldProbe.class);

        assertThat(run.getTestsSucceededCount()).as(Probes.failures(run)).isEqualTo(2);
        assertThat(seen).hasSize(6);
        assertThat(seen.get(4)).as("a ZooKeeper per test").isNotEqualTo(seen.get(1));
        for (int i = 0; i < 6; i += 3) {
            assertThat(((LocalCircuit) seen.get(i)).isRunning()).isFalse();
            assertThat((Path) seen.get(i + 2)).doesNotExist();
        }
    }

    @ExtendWith(Probes.OnlyWhenProbing.class)
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    static class PerClassInstanceProbe {
        @RegisterExtension
        final LocalCircuit circuit = LocalCircuit.withHosts(1);

        @Test
        void first() {
            seen.add(circuit.zookeeper());
        }

        @Test
        void second() {
            seen.add(circuit.zookeeper());
        }
    }

    @Test
    void shouldRunAnInstanceFieldCircuitOnceWhenTheClassHasOneInstance() {
        seen.clear();
        TestExecutionSummary run = Probes.run(PerClassInstanceProbe.class);

        assertThat(run.getTestsSucceededCount()).as(Probes.failures(run)).isEqualTo(2);
        assertThat(seen).hasSize(2);
        assertThat(Set.copyOf(seen)).as("one ZooKeeper for both tests").hasSize(1);
    }

    @ExtendWith(Probes.OnlyWhenProbing.class)
    static class TwoCircuitsProbe {
        @RegisterExtension
        static final LocalCircuit a = LocalCircuit.withHosts(1);
        @RegisterExtension
        static final LocalCircuit b = LocalCircuit.withHosts(1);

        @Test
        void wantsACircuit(Circuit client) {
            seen.add(client);
        }
    }

    @Test
    void shouldRefuseACircuitParameterThatTwoCircuitsCouldFill() {
        seen.clear();
        TestExecutionSummary run = Probes.run(TwoCircuitsProbe.class);

        assertThat(run.getTotalFailureCount()).isEqualTo(1);
        assertThat(run.getFailures().getFirst().getException())
            .isInstanceOf(ParameterResolutionException.class)
            .hasMessageContaining("ambiguous").hasMessageContaining("2 local circuits").hasMessageContaining("newClient()");
        assertThat(seen).isEmpty();
        assertThat(TwoCircuitsProbe.a.isRunning()).isFalse();
        assertThat(TwoCircuitsProbe.b.isRunning()).isFalse();
    }

    @Test
    void shouldStartAndStopByHandOutsideJUnit() {
        LocalCircuit circuit = LocalCircuit.withHosts("alpha", "beta");
        Path state;
        try (LocalCircuit started = circuit.start()) {
            state = started.stateDir();
            CircuitRuntime client = started.newClient();
            assertThat(client.anchors().listAll("/host").entries())
                .filteredOn(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY)))
                .extracting(Entry::dir).containsExactlyInAnyOrder("/host/alpha", "/host/beta");
            assertThat(started.host("beta").zookeeper()).isEqualTo(started.zookeeper());
            assertThat(state.resolve("alpha")).isDirectory();
        }
        assertThat(circuit.isRunning()).isFalse();
        assertThat(state).doesNotExist();
        assertThatThrownBy(circuit::start).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("closed").hasMessageContaining("LocalCircuit.withHosts");
    }

    @Test
    void shouldKeepTheStateDirWhenAsked() throws Exception {
        Path state;
        try (LocalCircuit circuit = LocalCircuit.withHosts(1).keepingStateDir().start()) {
            state = circuit.stateDir();
        }
        try {
            assertThat(state.resolve("host-1")).isDirectory();
        } finally {
            try (Stream<Path> all = Files.walk(state)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void shouldSayWhatIsWrongBeforeItStarts() {
        LocalCircuit circuit = LocalCircuit.withHosts(2);
        assertThat(circuit.hosts()).containsExactly("host-1", "host-2");
        assertThat(circuit.isRunning()).isFalse();
        assertThatThrownBy(circuit::zookeeper).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("not running").hasMessageContaining("@RegisterExtension");
        assertThatThrownBy(circuit::newClient).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> LocalCircuit.withHosts(0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("count=0");
        assertThatThrownBy(() -> LocalCircuit.withHosts("a", "a")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("'a' is given twice");
        assertThatThrownBy(() -> LocalCircuit.withHosts("a/b")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("bad host name 'a/b'");
        assertThatThrownBy(() -> LocalCircuit.withHosts()).isInstanceOf(IllegalArgumentException.class);
    }
}
