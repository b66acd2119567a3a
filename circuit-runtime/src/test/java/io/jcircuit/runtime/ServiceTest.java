package io.jcircuit.runtime;

import io.jcircuit.NoSuchServiceException;
import io.jcircuit.Worker;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
