package io.jcircuit.runtime;

import io.jcircuit.runtime.Fixtures.Box;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReferenceTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void shouldPassReferencesAtAnyDepthInsideRecordsListsMapsAndSets() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        CounterImpl c1 = new CounterImpl();
        CounterImpl c2 = new CounterImpl();
        CounterImpl c3 = new CounterImpl();
        CounterImpl c4 = new CounterImpl();
        Counter r1 = a.ref(Counter.class, c1);
        Box sent = new Box("box", r1, List.of(a.ref(Counter.class, c2)), Map.of("k", a.ref(Counter.class, c3)),
            Set.of(a.ref(Counter.class, c4)));

        Box back = echo.passBox(sent);

        back.counter().add(1);
        back.list().getFirst().add(2);
        back.map().get("k").add(3);
        back.set().iterator().next().add(4);
        assertThat(List.of(c1.get(), c2.get(), c3.get(), c4.get())).containsExactly(1, 2, 3, 4);
        assertThat(back.label()).isEqualTo("box");
        assertThat(back.counter()).isEqualTo(r1);
    }

    @Test
    void shouldLetTheCalleeCallBackThroughAReferenceArgument() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        CounterImpl counter = new CounterImpl();

        int value = echo.callCounter(a.ref(Counter.class, counter), 7);

        assertThat(value).isEqualTo(7);
        assertThat(counter.get()).isEqualTo(7);
    }

    @Test
    void shouldCompareReferencesByRemoteIdentityOnEveryRuntime() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        CounterImpl counter = new CounterImpl();
        Counter first = b.listen("counter", Counter.class, counter);
        Counter second = b.ref(Counter.class, counter);
        Counter otherObject = b.ref(Counter.class, new CounterImpl());

        Counter viaA1 = a.dial(b.address(), "counter", Counter.class);
        Counter viaA2 = a.dial(b.address(), "counter", Counter.class);

        assertThat(second).isSameAs(first);
        assertThat(viaA1).isEqualTo(viaA2).isEqualTo(first).hasSameHashCodeAs(first);
        assertThat(viaA1).isNotEqualTo(otherObject).isNotEqualTo(counter);
        assertThat(viaA1.toString()).contains(Counter.class.getName()).contains(b.id().toString());
        assertThat(counter.get()).as("equals, hashCode and toString make no call").isZero();
    }

    /** As the README says: one object under two interfaces is two exports, each limited to its interface. */
    @Test
    void shouldGiveAnObjectUnderTwoInterfacesTwoReferences() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        final class Both extends CounterImpl implements Runnable {
            @Override
            public void run() {
                add(100);
            }
        }
        Both both = new Both();
        b.listen("counter", Counter.class, both);
        b.listen("runnable", Runnable.class, both);

        Counter asCounter = a.dial(b.address(), "counter", Counter.class);
        Runnable asRunnable = a.dial(b.address(), "runnable", Runnable.class);
        asRunnable.run();

        assertThat(asCounter.get()).isEqualTo(100);
        assertThat((Object) asRunnable).isNotEqualTo(asCounter);
        assertThat(asRunnable).isNotInstanceOf(Counter.class);
    }

    @Test
    void shouldRunDefaultMethodsLocallyOverRemoteAbstractMethods() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        CounterImpl counter = new CounterImpl();
        b.listen("counter", Counter.class, counter);
        Counter remote = a.dial(b.address(), "counter", Counter.class);

        assertThat(remote.addTwice(5)).isEqualTo(10);
        assertThat(counter.get()).isEqualTo(10);
    }

    @Test
    void shouldMakeLocalReferencesBehaveLikeRemoteOnes() {
        CircuitRuntime a = runtimes.start();
        EchoImpl impl = new EchoImpl();
        Echo local = a.ref(Echo.class, impl);
        List<String> mine = Fixtures.mutableList("x");

        List<String> returned = local.appendAndReturn(mine, "y");

        assertThat(mine).as("arguments are copies, as on a remote call").containsExactly("x");
        assertThat(returned).containsExactly("x", "y");
        assertThat(local.whereAmI()).as("Circuit.current() is bound for local calls too").isEqualTo(a.id().toString());
        assertThatThrownBy(() -> local.fail("local boom")).isExactlyInstanceOf(IllegalStateException.class)
            .hasMessage("local boom");
        assertThat(a.isReference(local)).isTrue();
        assertThat(a.homeOf(local)).isEqualTo(a.self());
    }

    @Test
    void shouldResolveAReferenceBackHomeToTheSameObject() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        CounterImpl counter = new CounterImpl();
        Counter mine = a.ref(Counter.class, counter);

        Box back = echo.passBox(new Box("home", mine, List.of(), Map.of(), Set.of()));

        assertThat(back.counter()).isEqualTo(mine);
        assertThat(a.homeOf(back.counter())).isEqualTo(a.self());
        back.counter().add(2);
        assertThat(counter.get()).isEqualTo(2);
    }

    @Test
    void shouldRefuseToExportAClassOrAMismatchedObject() {
        CircuitRuntime a = runtimes.start();

        assertThatThrownBy(() -> a.ref(CounterImpl.class, new CounterImpl()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interface");
        assertThatThrownBy(() -> a.homeOf("not a ref"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a reference");
    }
}
