package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.Fn;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;

import java.util.Optional;

/** This runtime's handle on a worker, itself included. Equal when the worker ids are. */
final class RemoteWorker implements Worker {

    private final CircuitRuntime runtime;
    private final WorkerId id;
    private final Address address;

    RemoteWorker(CircuitRuntime runtime, WorkerId id, Address address) {
        this.runtime = runtime;
        this.id = id;
        this.address = address;
    }

    @Override
    public WorkerId id() {
        return id;
    }

    @Override
    public Address address() {
        return address;
    }

    @Override
    public <R> R go(Fn<R> fn) {
        return runtime.invoker().go(this, fn);
    }

    @Override
    public <T> T dial(String service, Class<T> iface) {
        return runtime.invoker().dial(this, service, iface, true).orElseThrow();
    }

    @Override
    public <T> Optional<T> tryDial(String service, Class<T> iface) {
        return runtime.invoker().dial(this, service, iface, false);
    }

    @Override
    public void kill() {
        runtime.spawning().kill(id);
    }

    @Override
    public void onExit(Runnable action) {
        runtime.spawning().onExit(id, java.util.Objects.requireNonNull(action, "action"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Worker w && w.id().equals(id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return "worker " + id + " at " + address;
    }
}
