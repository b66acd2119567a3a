package io.jcircuit.awaits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PromptAwaitsTest {

    @Test
    void intervalsDoubleFromTenMillisecondsUpToAwaitilitysHundred() {
        List<Long> millis = IntStream.rangeClosed(1, 8)
            .mapToObj(n -> PromptAwaits.INTERVAL.next(n, Duration.ZERO).toMillis()).toList();
        assertThat(millis).containsExactly(10L, 20L, 40L, 80L, 100L, 100L, 100L, 100L);
    }

    /** Nothing here installs the defaults: JUnit's extension auto-detection, as the build sets it up, does. */
    @Test
    void aWaitChecksAtOnceThenPollsAtTheFirstInterval() {
        List<Duration> used = new CopyOnWriteArrayList<>();
        AtomicInteger checks = new AtomicInteger();
        await().conditionEvaluationListener(c -> used.add(c.getPollInterval())).until(() -> checks.incrementAndGet() == 3);
        assertThat(used).containsExactly(Duration.ZERO, PromptAwaits.FIRST, PromptAwaits.FIRST.multipliedBy(2));
    }
}
