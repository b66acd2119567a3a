package io.jcircuit.cli.console;

import io.jcircuit.DeadlineExceededException;
import io.jcircuit.WorkerDiedException;

/**
 * A request that cannot be answered, with the HTTP status that says why. The console answers it as
 * {@code {"error": message, "status": status}}.
 */
final class HttpFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;

    HttpFailure(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }

    /**
     * The status for a failure of a call to a worker: what the worker refused (400, 409, 501), that it
     * is gone (502) or too slow (504), or anything else (500).
     */
    static HttpFailure of(Throwable t) {
        return switch (t) {
            case HttpFailure f -> f;
            case UnsupportedOperationException e -> new HttpFailure(501, "not available on this worker: " + text(e));
            case IllegalArgumentException e -> new HttpFailure(400, text(e));
            case IllegalStateException e -> new HttpFailure(409, text(e));
            case DeadlineExceededException e -> new HttpFailure(504, "the worker did not answer in time: " + text(e));
            case WorkerDiedException e when io.jcircuit.link.HandshakeTimeoutException.caused(e) ->
                new HttpFailure(504, "the worker did not answer in time: " + text(e));
            case WorkerDiedException e -> new HttpFailure(502, (io.jcircuit.link.HandshakeFailedException.caused(e)
                ? "the worker cannot be reached: " : "the worker is gone: ") + text(e));
            default -> new HttpFailure(500, CircuitSampler.describe(t));
        };
    }

    private static String text(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
