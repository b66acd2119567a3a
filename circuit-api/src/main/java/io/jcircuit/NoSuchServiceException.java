package io.jcircuit;

/** {@link Worker#dial} named a service that the worker does not listen on. */
public class NoSuchServiceException extends CircuitException {

    private static final long serialVersionUID = 1L;

    private final WorkerId worker;
    private final String service;

    public NoSuchServiceException(WorkerId worker, String service) {
        super("worker " + worker + " has no service named '" + service + "' (is listen(\"" + service + "\", ...) called there?)");
        this.worker = worker;
        this.service = service;
    }

    public WorkerId worker() {
        return worker;
    }

    public String service() {
        return service;
    }
}
