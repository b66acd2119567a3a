package io.jcircuit.link;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.SelectStrategy;
import io.netty.channel.SelectStrategyFactory;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.IntSupplier;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.concurrent.ThreadAwareExecutor;

import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.TimeUnit;

/**
 * Lets an event loop poll without blocking for a short while after it had work, before it sleeps in
 * {@code epoll_wait}. A call's answer usually comes tens of microseconds after its request went out,
 * and a loop that is still polling then reads it at once, where a sleeping one would first have to be
 * woken: on the VMs we measure on, a wake-up of a thread on another CPU costs about 10 us, a quarter
 * of a round trip.
 *
 * <p>Each turn polls the socket set once ({@code epoll_wait} with no timeout), checks the loop's task
 * queue, and yields the CPU, so that on a small machine the thread being waited for can run. A task
 * submitted from another thread while the loop polls does not wake it (Netty writes the loop's event
 * fd only while it sleeps), so the queue check here is what keeps such tasks from waiting out the
 * spell. With a budget of 0 the loop sleeps at once, as Netty's default strategy does.
 */
final class SpinningSelect implements SelectStrategy {

    private final SingleThreadEventExecutor loop;
    private final long budgetNanos;
    /** When the loop last had work, as a {@link System#nanoTime()}. */
    private long lastBusy;
    /** The last call chose to sleep; returning here means something woke the loop. */
    private boolean slept;

    private SpinningSelect(SingleThreadEventExecutor loop, long budgetNanos) {
        this.loop = loop;
        this.budgetNanos = budgetNanos;
    }

    /** Netty's epoll or NIO handler, polling for {@code spinMicros} after work when that is above 0. */
    static IoHandlerFactory ioHandlers(boolean epoll, int spinMicros) {
        if (spinMicros == 0) {
            return epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        }
        long budget = TimeUnit.MICROSECONDS.toNanos(spinMicros);
        return new IoHandlerFactory() {
            @Override
            public io.netty.channel.IoHandler newHandler(ThreadAwareExecutor executor) {
                SelectStrategyFactory strategies = executor instanceof SingleThreadEventExecutor loop
                    ? () -> new SpinningSelect(loop, budget)
                    : io.netty.channel.DefaultSelectStrategyFactory.INSTANCE;
                IoHandlerFactory handlers = epoll
                    ? EpollIoHandler.newFactory(0, strategies)
                    : NioIoHandler.newFactory(SelectorProvider.provider(), strategies);
                return handlers.newHandler(executor);
            }
        };
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        long now = System.nanoTime();
        if (hasTasks || slept) {
            slept = false;
            lastBusy = now;
            if (hasTasks) {
                return selectNow.get();
            }
        }
        while (now - lastBusy < budgetNanos) {
            int ready = selectNow.get();
            if (ready > 0 || loop.pendingTasks() > 0) {
                lastBusy = System.nanoTime();
                return ready;
            }
            Thread.yield();
            now = System.nanoTime();
        }
        slept = true;
        return SelectStrategy.SELECT;
    }
}
