package io.jcircuit.runtime.host;

import io.jcircuit.WorkerId;

import java.util.List;

/** What a host daemon offers, published as the service {@value #SERVICE} of its runtime. */
public interface HostService {

    String SERVICE = "circuit.host";
    /** The metadata key and value that mark a host daemon's own entry under {@code /host/<name>}. */
    String ROLE_KEY = "role";
    String ROLE_HOST = "host";
    String ROLE_WORKER = "worker";

    /** Starts a worker JVM as {@code spec} says and returns once its runtime answers. */
    SpawnedWorker spawn(SpawnSpec spec);

    /** Runs an operating-system process as {@code spec} says; returns a reference to it. */
    io.jcircuit.Proc exec(io.jcircuit.ExecSpec spec);

    /** Kills the worker at once; false when this host runs no such worker. */
    boolean kill(WorkerId worker);

    /** The workers running on this host. */
    List<SpawnedWorker> workers();

    /** Stops the host: its non-daemon workers are killed, daemonized ones keep running. */
    void stop();
}
