package io.jcircuit;

/**
 * A call could not complete because the worker that should run it is gone: its process exited, its
 * link broke, nothing listens at its address, or another worker answers there now.
 *
 * <p>{@link #outcomeUnknown()} tells whether the call may have run: it is {@code false} when the call
 * never left this runtime (for example the dial was refused) and {@code true} when the call was sent
 * and the link broke before the answer came.
 */
public class WorkerDiedException extends CircuitException {

    private static final long serialVersionUID = 1L;

    private final WorkerId worker;
    private final boolean outcomeUnknown;

    public WorkerDiedException(WorkerId worker, boolean outcomeUnknown, String message) {
        this(worker, outcomeUnknown, message, null);
    }

    public WorkerDiedException(WorkerId worker, boolean outcomeUnknown, String message, Throwable cause) {
        super(message, cause);
        this.worker = worker;
        this.outcomeUnknown = outcomeUnknown;
    }

    /** The worker that is gone; {@code null} when a dial failed before any worker answered. */
    public WorkerId worker() {
        return worker;
    }

    /** True when the call may have run on the remote worker before it was lost. */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
