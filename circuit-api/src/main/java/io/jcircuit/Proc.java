package io.jcircuit;

import java.time.Duration;
import java.util.Optional;

/**
 * An operating-system process that a host runs for this circuit (the Go Circuit v2's
 * {@code mkproc}), from {@link Circuit#exec}. This is a reference: its methods are calls to the host,
 * and it can be passed to other runtimes like any reference. Its output streams to the
 * {@link OutputSink}s given at start.
 */
public interface Proc {

    /** The process id on its host. */
    long pid();

    /** The host it runs on. */
    String host();

    /** Writes {@code bytes} to its standard input. */
    void write(byte[] bytes);

    /** Closes its standard input. */
    void closeInput();

    /**
     * Sends a signal: {@code TERM}, {@code KILL}, {@code INT}, {@code HUP}, {@code USR1},
     * {@code USR2}, {@code STOP} or {@code CONT}.
     *
     * @throws IllegalArgumentException for another name
     * @throws IllegalStateException    when the process has ended
     */
    void signal(String signal);

    /**
     * Waits up to {@code timeout} for the process to end and its output to reach its sinks; returns its
     * exit status, or empty when it still runs or output it printed is still on its way to a sink (a
     * slow sink) when the timeout runs out ({@link #exitStatus} tells those apart). Output sent to sinks
     * ({@link ExecSpec#output}) has reached them, and they are closed, when this returns a status,
     * unless a process the command started keeps its output open past it: then the status comes at the
     * timeout, with what was printed until then delivered. The call to the host gets {@code timeout} and 10 s more as its deadline (a
     * shorter {@link Deadline} scope of the caller's still applies), not the runtime's default deadline:
     * a wait of a minute no longer failed at 30 s.
     */
    default Optional<Integer> waitFor(Duration timeout) {
        java.util.Objects.requireNonNull(timeout, "timeout");
        return Deadline.within(timeout.plusSeconds(10), () -> awaitExit(timeout));
    }

    /** The call to the host behind {@link #waitFor}, under the caller's deadline as it is. */
    Optional<Integer> awaitExit(Duration timeout);

    /** Its exit status once it ended, else empty; does not wait. */
    Optional<Integer> exitStatus();
}
