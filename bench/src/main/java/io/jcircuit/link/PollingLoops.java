package io.jcircuit.link;

import io.netty.channel.IoHandlerFactory;

/**
 * JCircuit's polling event loops ({@link SpinningSelect}) for measurements outside the link, such as
 * {@code io.jcircuit.bench.LoopHandOff}'s model of JCircuit's server. This class sits in the link's package to reach
 * the package-private select strategy.
 */
public final class PollingLoops {

    private PollingLoops() {
    }

    /** Netty's epoll handlers, each polling for {@code spinMicros} after work before it sleeps, as a runtime's loops do. */
    public static IoHandlerFactory epoll(int spinMicros) {
        return SpinningSelect.ioHandlers(true, spinMicros);
    }
}
