package io.jcircuit.test;

import io.jcircuit.CallInterceptor;
import io.jcircuit.Chan;
import io.jcircuit.Deadline;
import io.jcircuit.DeadlineExceededException;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A channel's loans over a link that holds traffic up: a receive request delayed on its way (a
 * retransmission, a stalled link) reaches the owner together with the give-back its receiver sent
 * once its deadline passed. A review found the give-back served first, finding nothing lent, and the
 * receive then lending an item that came meanwhile to a call nobody waited for: the item was lost.
 */
@Timeout(60)
class ChanLoanTest {

    /** How the owner hands its channel out. */
    public interface Source {
        Chan<Integer> chan();
    }

    @Test
    void aGiveBackThatOvertakesItsLateReceiveKeepsTheReceiveFromLending() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", port))) {
            RuntimeConfig.Builder b = RuntimeConfig.builder().port(port);
            b.link().advertisedPort(proxy.port());
            try (CircuitRuntime owner = CircuitRuntime.start(b.build());
                 CircuitRuntime user = CircuitRuntime.start(RuntimeConfig.builder().build())) {
                Chan<Integer> chan = owner.makeChan(10);
                owner.listen("chan", Source.class, () -> chan);
                Chan<Integer> remote = user.worker(owner.address()).dial("chan", Source.class).chan();
                AtomicInteger receives = new AtomicInteger();
                CountDownLatch lateReceiveArrived = new CountDownLatch(1);
                CountDownLatch lateReceiveDone = new CountDownLatch(1);
                CountDownLatch gaveBack = new CountDownLatch(1);
                AtomicInteger givenBack = new AtomicInteger(-1);
                owner.intercept(new CallInterceptor() {
                    @Override
                    public Object incoming(CallInfo call, Map<String, String> context, Proceed proceed) throws Throwable {
                        boolean lateReceive = call.method().startsWith("ChanCore.receiveLent") && receives.incrementAndGet() == 2;
                        if (lateReceive) {
                            lateReceiveArrived.countDown();
                        }
                        Object r = proceed.proceed();
                        if (lateReceive) {
                            lateReceiveDone.countDown();
                        }
                        if (call.method().startsWith("ChanCore.giveBack")) {
                            givenBack.set((Integer) r);
                            gaveBack.countDown();
                        }
                        return r;
                    }
                });

                assertThat(remote.poll()).isEmpty(); // the first receive: the copy is set up
                proxy.delay(Duration.ofSeconds(3)); // what is sent now is held up on its way to the owner
                assertThatThrownBy(() -> Deadline.within(Duration.ofMillis(1500), remote::receive))
                    .isInstanceOfSatisfying(DeadlineExceededException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
                assertThat(gaveBack.getCount()).isEqualTo(1);
                proxy.pass(); // the late receive, and the give-back sent after it, arrive together

                assertThat(lateReceiveArrived.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(gaveBack.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(givenBack.get()).as("nothing was lent when the give-back was served").isZero();
                assertThat(chan.offer(42)).isTrue(); // an item comes while the late receive may still wait
                assertThat(lateReceiveDone.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(chan.poll()).as("42 was not lent to the late receive").contains(42);
            }
        }
    }
}
