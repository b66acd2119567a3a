package io.jcircuit;

/**
 * What {@link Circuit#spawn} returns: the function's result, copied back as a {@code go} result is
 * (references stay references), and a handle on the new worker.
 */
public record Spawned<R>(R result, Worker worker) {
}
