package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.NoSuchServiceException;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.Worker;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ServiceTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void shouldThrowOnDialOfUnknownServiceAndReturnEmptyOnTryDial() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();

        assertThatThrownBy(() -> a.dial(b.address(), "nope", Echo.class))
            .isInstanceOf(NoSuchServiceException.class)
            .hasMessageContaining("nope").hasMessageContaining(b.id().toString());
        assertThat(a.tryDial(b.address(), "nope", Echo.class)).isEmpty();
    }

    @Test
    void shouldRefuseToReplaceTheRuntimesOwnOpsServiceOrTakeAnyNameOfJCircuits() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        assertThatThrownBy(() -> b.listen(io.jcircuit.runtime.ops.Ops.SERVICE, Echo.class, new EchoImpl()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'circuit.ops' is reserved");
        // before: refused only when the name was taken already
        assertThatThrownBy(() -> b.listen("circuit.mine", Echo.class, new EchoImpl()))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("service name 'circuit.mine' is reserved: names starting with 'circuit.' are JCircuit's");
        assertThat(a.dial(b.address(), io.jcircuit.runtime.ops.Ops.SERVICE, io.jcircuit.runtime.ops.Ops.class).ping(7)).isEqualTo(7);
    }

    @Test
    void shouldFindAServiceAfterListenAndLoseItAfterUnlisten() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Worker wb = a.worker(b.address());
        b.listen("echo", Echo.class, new EchoImpl());

        assertThat(wb.tryDial("echo", Echo.class)).isPresent();
        b.unlisten("echo");
        assertThat(wb.tryDial("echo", Echo.class)).isEmpty();
    }

    @Test
    void shouldRefuseToDialAServiceAsAnInterfaceItDoesNotImplement() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("counter", Counter.class, new CounterImpl());

        assertThatThrownBy(() -> a.dial(b.address(), "counter", Echo.class))
            .isInstanceOf(ClassCastException.class).hasMessageContaining("does not implement");
    }

    @Test
    void shouldLetAThirdPartyCallTheHomeOfAReferenceDirectly() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        CircuitRuntime c = runtimes.start();
        CounterImpl counter = new CounterImpl();
        c.listen("counter", Counter.class, counter);
        EchoImpl onBImpl = new EchoImpl();
        b.listen("echo", Echo.class, onBImpl);
        Counter onC = a.dial(c.address(), "counter", Counter.class);
        Echo onB = a.dial(b.address(), "echo", Echo.class);

        onB.keep(onC);
        a.close(); // the passer is gone: B must reach C directly

        assertThat(onBImpl.kept).isEqualTo(onC);
        assertThat(b.homeOf(onBImpl.kept).id()).isEqualTo(c.id());
        assertThat(onBImpl.kept.add(5)).isEqualTo(5);
        assertThat(counter.get()).isEqualTo(5);
    }

    @Test
    void shouldReturnTheSelfHandleForItsOwnAddress() {
        CircuitRuntime a = runtimes.start();

        assertThat(a.worker(a.address())).isSameAs(a.self());
        assertThat(a.self().id()).isEqualTo(a.id());
    }

    @Test
    void aLinkOpenedAheadCarriesTheFirstCallsInBothDirections() {
        CircuitRuntime spawner = runtimes.start();
        CircuitRuntime worker = runtimes.start();
        spawner.listen("echo", Echo.class, new EchoImpl());
        worker.listen("echo", Echo.class, new EchoImpl());

        worker.connectAhead(spawner.id(), spawner.address()); // as a spawned worker does for its spawner
        await().until(() -> spawner.peers().isConnected(worker.id()) && worker.peers().isConnected(spawner.id()));
        assertThat(spawner.dial(worker.address(), "echo", Echo.class).echo("down")).isEqualTo("down");
        assertThat(worker.dial(spawner.address(), "echo", Echo.class).echo("up")).isEqualTo("up");
        assertThat(spawner.links()).singleElement().satisfies(l -> assertThat(l.peer()).isEqualTo(worker.id()));
        assertThat(worker.links()).singleElement().satisfies(l -> assertThat(l.peer()).isEqualTo(spawner.id()));

        worker.connectAhead(spawner.id(), spawner.address()); // a session is up: nothing more is dialed
        worker.connectAhead(worker.id(), worker.address()); // itself: nothing to link
        assertThat(worker.links()).hasSize(1);
    }

    @Test
    void aLinkAheadToNobodyFailsQuietlyAndTheFirstCallSaysWhy() throws Exception {
        CircuitRuntime a = runtimes.start();
        Address nobody;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            nobody = new Address("127.0.0.1", s.getLocalPort()); // closed again: nothing listens there
        }
        a.connectAhead(WorkerId.random(), nobody);
        assertThatThrownBy(() -> a.worker(nobody)).isInstanceOf(WorkerDiedException.class)
            .hasMessageContaining(nobody.toString());
        assertThat(a.links()).isEmpty();
    }

    @Test
    void shouldCountLookupsOfNamesThatAreNotThereUnderOneName() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        for (int i = 0; i < 20; i++) {
            assertThat(a.tryDial(b.address(), "nope-" + i, Echo.class)).isEmpty();
        }
        a.dial(b.address(), "echo", Echo.class);

        // before: each name had a row, and a histogram of about 50 KB, on both sides for as long as they linked
        java.util.function.Function<CircuitRuntime, java.util.List<String>> dials = rt -> rt.self()
            .dial(io.jcircuit.runtime.ops.Ops.SERVICE, io.jcircuit.runtime.ops.Ops.class).metrics().calls().stream()
            .map(io.jcircuit.runtime.ops.CallStats::method).filter(name -> name.startsWith("dial ")).sorted().toList();
        assertThat(dials.apply(a)).containsExactly("dial (no such service)", "dial echo");
        // the callee counts a call after its answer has gone, so the last one may not be counted yet
        await().untilAsserted(() -> assertThat(dials.apply(b)).containsExactly("dial (no such service)", "dial echo"));
    }
}
