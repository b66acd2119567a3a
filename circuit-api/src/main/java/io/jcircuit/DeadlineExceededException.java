package io.jcircuit;

/**
 * A call's deadline passed before its answer arrived. The call may still run, or have run, on the
 * remote worker, so the outcome is unknown. See {@link Deadline}.
 */
public class DeadlineExceededException extends CircuitException {

    private static final long serialVersionUID = 1L;

    private final WorkerId worker;
    private final boolean notSent;

    public DeadlineExceededException(WorkerId worker, String message) {
        this(worker, message, false);
    }

    /** @param notSent the deadline passed before the call was sent: it did not run, and never will */
    public DeadlineExceededException(WorkerId worker, String message, boolean notSent) {
        super(message);
        this.worker = worker;
        this.notSent = notSent;
    }

    /** The worker the call went to. */
    public WorkerId worker() {
        return worker;
    }

    /** True unless the deadline passed before the call was sent: the remote side may or may not have run it. */
    public boolean outcomeUnknown() {
        return !notSent;
    }
}
