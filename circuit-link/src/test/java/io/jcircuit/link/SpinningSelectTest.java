package io.jcircuit.link;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

class SpinningSelectTest {

    /**
     * A task handed to a polling loop from another thread does not wake it (Netty skips the wake-up
     * while the loop is not asleep); the strategy must notice the task itself. The budget here is a
     * minute, so a task left for the end of the spell would miss the 20 s wait below.
     */
    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {true, false})
    void shouldRunATaskSubmittedWhileTheLoopPolls(boolean epoll) throws Exception {
        assumeThat(!epoll || Epoll.isAvailable()).as("epoll loads here").isTrue();
        int minute = (int) TimeUnit.MINUTES.toMicros(1);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new DefaultThreadFactory("spin-test", true), SpinningSelect.ioHandlers(epoll, minute));
        try {
            for (int i = 0; i < 3; i++) {
                // the first task is work, so the loop then polls; the next ones arrive during the spell
                CountDownLatch ran = new CountDownLatch(1);
                group.next().execute(ran::countDown);
                assertThat(ran.await(20, TimeUnit.SECONDS)).as("task %d ran", i).isTrue();
            }
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldRefuseASpinBudgetOutOfRange() {
        assertThatThrownBy(() -> LinkConfig.builder().spinMicros(-1).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("spinMicros=-1");
        assertThatThrownBy(() -> LinkConfig.builder().spinMicros(LinkConfig.MAX_SPIN_MICROS + 1).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
        assertThat(LinkConfig.builder().spinMicros(0).build().spinMicros()).isZero();
    }

    @Test
    void shouldSpinByDefaultOnAnyNumberOfCpus() {
        assumeThat(System.getProperty("circuit.spinMicros")).isNull();
        assertThat(LinkConfig.builder().build().spinMicros()).isEqualTo(LinkConfig.DEFAULT_SPIN_MICROS).isEqualTo(50);
    }
}
