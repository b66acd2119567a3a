package io.jcircuit.runtime;

import io.jcircuit.Chan;
import io.jcircuit.ChanClosedException;
import io.jcircuit.WorkerDiedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@org.junit.jupiter.api.Timeout(120)
class ChanTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    /** How a channel reaches another runtime in these tests: as the result of a call. */
    public interface ChanSource {
        Chan<Integer> chan();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void itemsArriveInOrderAndCloseLetsReceiversDrain() {
        CircuitRuntime rt = runtimes.start();
        Chan<Integer> c = rt.makeChan(10);
        for (int i = 0; i < 5; i++) {
            c.send(i);
        }
        c.close();
        List<Integer> got = new ArrayList<>();
        c.forEach(got::add);
        assertThat(got).containsExactly(0, 1, 2, 3, 4);
        assertThatThrownBy(c::receive).isInstanceOf(ChanClosedException.class);
        assertThatThrownBy(() -> {
            c.send(9);
            c.flush();
        }).isInstanceOf(ChanClosedException.class);
    }

    @Test
    void offerAndPollNeverBlock() {
        CircuitRuntime rt = runtimes.start();
        Chan<String> c = rt.makeChan(2);
        assertThat(c.poll()).isEmpty();
        assertThat(c.offer("a")).isTrue();
        assertThat(c.offer("b")).isTrue();
        assertThat(c.offer("c")).as("full").isFalse();
        assertThat(c.poll()).contains("a");
        assertThat(c.capacity()).isEqualTo(2);
    }

    @Test
    void aFullChannelHoldsTheSenderBack() throws Exception {
        CircuitRuntime rt = runtimes.start();
        Chan<Integer> c = rt.makeChan(3);
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 5_000; i++) {
                c.send(i);
            }
            c.flush();
        });
        Thread.onSpinWait();
        assertThat(producer).isNotDone(); // 5000 items cannot fit in 3 until someone receives
        int sum = 0;
        for (int i = 0; i < 5_000; i++) {
            sum += c.receive();
        }
        producer.get(30, TimeUnit.SECONDS);
        assertThat(sum).isEqualTo(5_000 * 4_999 / 2);
    }

    @Test
    void itemsStreamBetweenRuntimesInOrder() throws Exception {
        CircuitRuntime owner = runtimes.start();
        CircuitRuntime producerSide = runtimes.start();
        CircuitRuntime consumerSide = runtimes.start();
        Chan<Integer> chan = owner.makeChan(4096);
        owner.listen("chan", ChanSource.class, () -> chan);

        Chan<Integer> out = producerSide.dial(owner.address(), "chan", ChanSource.class).chan();
        Chan<Integer> in = consumerSide.dial(owner.address(), "chan", ChanSource.class).chan();
        int n = 200_000;
        long t0 = System.nanoTime();
        CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < n; i++) {
                out.send(i);
            }
            out.close();
        });
        long expected = 0;
        long count = 0;
        for (int v : in) {
            assertThat(v).isEqualTo((int) expected);
            expected++;
            count++;
        }
        producer.get(60, TimeUnit.SECONDS);
        double perSecond = count * 1e9 / (System.nanoTime() - t0);
        System.out.printf("chan: %d items through a third runtime at %.0f items/s%n", count, perSecond);
        assertThat(count).isEqualTo(n);
    }

    @Test
    void whenTheOwnerDiesSendersAndReceiversFail() {
        CircuitRuntime owner = runtimes.start();
        CircuitRuntime user = runtimes.start();
        Chan<Integer> chan = owner.makeChan(10);
        owner.listen("chan", ChanSource.class, () -> chan);
        Chan<Integer> remote = user.dial(owner.address(), "chan", ChanSource.class).chan();
        remote.send(1);
        remote.flush();
        owner.close();
        assertThatThrownBy(remote::receive).isInstanceOf(WorkerDiedException.class);
        assertThatThrownBy(() -> {
            remote.send(2);
            remote.flush();
        }).isInstanceOf(WorkerDiedException.class);
    }
}
