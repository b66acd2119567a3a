package io.jcircuit.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jcircuit.runtime.ops.Ops;
import io.jcircuit.runtime.ops.OpsService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A hot swap whose driving runtime ({@code circuit swap}) ends while a service of the old worker is frozen:
 * the old worker finishes the swap itself once no service is frozen any more ({@link Ops#swapDrivenBy}).
 */
@Timeout(60)
class OrphanedSwapTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(OpsService.class);
    private Level configured;

    @BeforeEach
    void attachLog() {
        log.start();
        logger.addAppender(log);
        configured = logger.getLevel();
        logger.setLevel(Level.INFO); // the finish says at INFO what it waits for
    }

    @AfterEach
    void detachLog() {
        logger.setLevel(configured);
        logger.detachAppender(log);
    }

    public interface Counter {
        long add(long n);
    }

    static final class CounterImpl implements Counter {
        private final AtomicLong total = new AtomicLong();

        @Override
        public long add(long n) {
            return total.addAndGet(n);
        }
    }

    private boolean logged(String text) {
        synchronized (log) { // the appender adds under this lock: a copy taken outside it could end in a null
            return log.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
        }
    }

    /**
     * The forward that lets the last freeze go wakes the orphaned finish, which then goes on with what it
     * finds at that step: here a service moved and another still served, frozen again by a second swap
     * right after. Before, the finish looked every 500 ms whether a service was frozen, so it would mostly
     * find the second freeze and wait for it too.
     */
    @Test
    void shouldFinishAnOrphanedSwapAtTheStepThatLetsItsLastFreezeGo() {
        CircuitRuntime old = runtimes.start();
        CircuitRuntime replacement = runtimes.start();
        CircuitRuntime driver = runtimes.start();
        old.listen("counter", Counter.class, new CounterImpl());
        old.listen("other", Counter.class, new CounterImpl());
        Ops oldOps = replacement.dial(old.address(), Ops.SERVICE, Ops.class);
        oldOps.swapFreeze("counter", 5_000);
        driver.dial(old.address(), Ops.SERVICE, Ops.class).swapDrivenBy(driver.ref(Runnable.class, () -> { }));

        driver.close(); // as a 'circuit swap' killed between the freeze and the forward
        await().until(() -> logged("finishes the swap once [counter] is no longer frozen"));
        oldOps.swapForward("counter", replacement.listen("counter", Counter.class, new CounterImpl()));
        oldOps.swapFreeze("other", 5_000); // another swap, of the other service, at once

        await().until(() -> logged("this worker serves [other] on"));
        assertThat(old.serviceFrozen("other")).as("the second swap's freeze is still on").isTrue();
        oldOps.swapAbort("other");
    }

    /**
     * A swap whose driver ended before the freeze (the command killed while the replacement started) is
     * finished by the forward its take-over makes later. Before, the finish ran at the driver's end, found
     * nothing frozen or forwarded and stopped: the old worker served on beside its replacement for good.
     */
    @Test
    void shouldFinishASwapWhoseDriverEndedBeforeTheFreezeOnceTheTakeOverForwards() {
        CircuitRuntime old = runtimes.start();
        CircuitRuntime replacement = runtimes.start();
        CircuitRuntime driver = runtimes.start();
        old.listen("counter", Counter.class, new CounterImpl());
        driver.dial(old.address(), Ops.SERVICE, Ops.class).swapDrivenBy(driver.ref(Runnable.class, () -> { }));
        driver.close();
        await().until(() -> old.links().stream().noneMatch(l -> l.peer().equals(driver.id()) && l.isConnected()));

        Ops oldOps = replacement.dial(old.address(), Ops.SERVICE, Ops.class); // the take-over, on its way all along
        oldOps.swapFreeze("counter", 5_000);
        oldOps.swapForward("counter", replacement.listen("counter", Counter.class, new CounterImpl()));

        // it goes on to drain, linger and retire: not waited for here, as a retired runtime exits its process
        // (one its application has closed by then, as the extension does after this test, does not)
        await().until(() -> logged("it drains, lingers 5 s and retires by itself"));
        java.lang.ref.Reference.reachabilityFence(oldOps);
    }

    /**
     * A frozen service that is unlistened, or replaced under its name, is no longer one of this runtime's
     * frozen services: what waits for none to be frozen goes on at once, not at the freeze limit.
     */
    @Test
    void aFrozenServiceUnlistenedOrReplacedLetsWhatWaitsForNoFreezeGoOn() throws Exception {
        CircuitRuntime rt = runtimes.start();
        rt.listen("counter", Counter.class, new CounterImpl());
        rt.listen("other", Counter.class, new CounterImpl());
        rt.freezeService("counter", java.time.Duration.ofSeconds(5));
        rt.freezeService("other", java.time.Duration.ofSeconds(5));
        java.util.concurrent.CountDownLatch noneFrozen = new java.util.concurrent.CountDownLatch(1);
        rt.whenNoServiceFrozen(noneFrozen::countDown);
        assertThat(noneFrozen.getCount()).as("two services are frozen").isEqualTo(1);

        rt.unlisten("counter");
        assertThat(noneFrozen.getCount()).as("'other' is still frozen").isEqualTo(1);
        rt.listen("other", Counter.class, new CounterImpl()); // a new object under the frozen one's name
        assertThat(noneFrozen.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("ran once none was frozen").isTrue();
    }
}
