package io.jcircuit;

/**
 * A call's deadline passed before its answer arrived. The call may still run, or have run, on the
 * remote worker, so the outcome is unknown. See {@link Deadline}.
 */
public class DeadlineExceededException extends CircuitException {

    private static final long serialVersionUID = 1L;

    private final WorkerId worker;

    public DeadlineExceededException(WorkerId worker, String message) {
        super(message);
        this.worker = worker;
    }

    /** The worker the call went to. */
    public WorkerId worker() {
        return worker;
    }

    /** Always true: the remote side may or may not have run the call. */
    public boolean outcomeUnknown() {
        return true;
    }
}
