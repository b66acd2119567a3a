package io.jcircuit;

import java.util.Optional;

/**
 * A handle on one runtime of the circuit, local or remote. Handles are cheap; two handles are equal
 * when they name the same {@link WorkerId}.
 *
 * <p>Every method here may block on the network. Each runs under the current {@link Deadline} scope
 * and fails with {@link WorkerDiedException} when the worker is gone; none waits forever.
 */
public interface Worker {

    WorkerId id();

    Address address();

    /**
     * Runs {@code fn} on a new virtual thread in this worker and returns its result. This is Erlang's
     * {@code spawn(Node, Fun)} with a reply: it blocks until {@code fn} returns or throws there.
     *
     * @throws WorkerDiedException       when the worker is gone
     * @throws DeadlineExceededException when the deadline passes first
     */
    <R> R go(Fn<R> fn);

    /**
     * Returns a reference to the service that the worker published with {@link Circuit#listen}.
     *
     * @throws NoSuchServiceException when the worker has no service of that name
     * @throws ClassCastException     when the service does not implement {@code iface}
     */
    <T> T dial(String service, Class<T> iface);

    /** Like {@link #dial}, but returns empty when the worker has no service of that name. */
    <T> Optional<T> tryDial(String service, Class<T> iface);

    /**
     * Ends the worker at once: its host kills the process, and returns once the process has ended
     * and its namespace entries are gone. Calls to it then fail with {@link WorkerDiedException}.
     * Does nothing when the worker is already gone.
     *
     * @throws IllegalStateException when the worker runs but no host started it (close its runtime
     *                               instead)
     */
    void kill();

    /**
     * Runs {@code action} once when the worker is gone: its process ended, or it stayed out of reach past
     * the outage limit. An entry that leaves {@code /worker} while the worker runs (ZooKeeper away, or the
     * worker paused past its session timeout) is not an exit. Runs at once when it is already gone.
     * Needs a namespace.
     */
    void onExit(Runnable action);
}
