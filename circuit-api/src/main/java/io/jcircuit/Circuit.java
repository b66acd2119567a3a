package io.jcircuit;

import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * One runtime taking part in a circuit: the entry point of the programming model.
 *
 * <h2>References and copies</h2>
 * Values travel by copy and references by reference. {@link #ref} turns a local object into a
 * reference: a proxy that implements the given interface. Passed as an argument or a result, at any
 * depth inside records, lists, sets and maps, a reference arrives as a proxy whose calls are remote
 * calls to the object's home runtime. Everything else is serialized and copied. A call on a
 * reference to a local object copies its arguments and result as a remote call does, so code cannot
 * tell a local reference from a remote one.
 *
 * <h2>Proxies</h2>
 * <ul>
 *   <li>{@code equals} and {@code hashCode} compare the identity of the remote object (home worker
 *       and export handle), never call it: two references to the same exported object are equal on
 *       every runtime.</li>
 *   <li>{@code toString} describes the reference locally, e.g.
 *       {@code ref(com.acme.Counter @ R00000000000000a1#3)}, and does not call the remote object.</li>
 *   <li>A default method of the interface runs locally, in the caller, on the proxy; the abstract
 *       methods it calls are remote calls.</li>
 * </ul>
 *
 * <h2>Asynchronous methods</h2>
 * A method declared to return {@link java.util.concurrent.CompletableFuture},
 * {@link java.util.concurrent.CompletionStage} or {@link java.util.concurrent.Future} is called
 * asynchronously: the proxy returns a future at once, and the answer, the call's deadline or a
 * broken link completes it. The implementation returns a future too, and the answer goes when it
 * completes. Futures complete on one thread per runtime, in the order outcomes come, never on an
 * event loop: dependents added without an executor run there (or on the thread of another dependent
 * that helps, as {@code CompletableFuture} allows) and should not block; waiting there for an
 * unfinished call's future throws {@link IllegalStateException}.
 *
 * <h2>Threads</h2>
 * Incoming calls and {@code go} functions run on virtual threads, so a callee that blocks holds up
 * nothing else. Inside them {@link #current()} is the runtime that runs them.
 *
 * <p>Implementations are thread-safe.
 */
public interface Circuit extends AutoCloseable {

    /** This runtime's identity. */
    WorkerId id();

    /** The address other runtimes dial to reach this one. */
    Address address();

    /** A handle on this runtime itself. */
    Worker self();

    /**
     * Exports {@code impl} and returns a reference to it that implements {@code iface}. Exporting the
     * same object twice returns equal references. Passing a reference (rather than {@code impl}) to
     * another runtime lets that runtime call {@code impl} here.
     *
     * @throws IllegalArgumentException when {@code iface} is not an interface or {@code impl} does not
     *                                  implement it
     */
    <T> T ref(Class<T> iface, T impl);

    /**
     * Publishes a service under {@code name}, so that any runtime can {@link Worker#dial} it. A later
     * {@code listen} with the same name replaces the earlier one. Returns the reference.
     */
    <T> T listen(String name, Class<T> iface, T impl);

    /** Removes the service {@code name}; references already handed out stay valid. */
    void unlisten(String name);

    /**
     * Connects to the runtime at {@code address} and returns a handle on it. Waits at most the link's
     * connect timeout, or until the caller's {@link Deadline} when that comes first.
     *
     * @throws WorkerDiedException       when nothing answers there within the connect timeout
     * @throws DeadlineExceededException when the caller's deadline passes first (nothing was sent)
     */
    Worker worker(Address address);

    /** Shorthand for {@code worker(address).dial(service, iface)}. */
    default <T> T dial(Address address, String service, Class<T> iface) {
        return worker(address).dial(service, iface);
    }

    /** Shorthand for {@code worker(address).tryDial(service, iface)}. */
    default <T> Optional<T> tryDial(Address address, String service, Class<T> iface) {
        return worker(address).tryDial(service, iface);
    }

    /**
     * The worker that is home to {@code reference}.
     *
     * @throws IllegalArgumentException when {@code reference} is not a reference
     */
    Worker homeOf(Object reference);

    /** True when {@code object} is a reference made by {@link #ref} on any runtime. */
    boolean isReference(Object object);

    /**
     * Pass as the host of {@link #spawn} to let the circuit choose: the least loaded host (its workers,
     * plus this runtime's spawns to it that its entry does not show yet), at random among equally
     * loaded ones. A host that cannot be reached is passed over for the next when the request
     * certainly did not reach it.
     */
    String ANY_HOST = "*";

    /**
     * Starts a new worker JVM on {@code host} (a host daemon's name, or {@link #ANY_HOST}), files it
     * under {@code anchors} and under {@code /host/<host>}, runs {@code fn} there on a virtual thread,
     * and returns its result with a handle on the worker. The worker's classpath is this runtime's,
     * shipped to the host by content hash.
     *
     * <p>Lifetime (DESIGN §1): unless {@link SpawnOptions#daemonize daemonized}, the worker exits by
     * itself once {@code fn} has returned and no other runtime holds a reference into it, and when
     * this runtime is gone; {@link Worker#kill} ends it at once.
     *
     * @throws NullPointerException  when {@code host} is null ({@link #ANY_HOST} asks for any host)
     * @throws IllegalStateException when this runtime has no namespace, or no host runs
     * @throws CircuitException      when the host cannot start the worker; the message says why
     */
    <R> Spawned<R> spawn(String host, java.util.List<String> anchors, Fn<R> fn, SpawnOptions options);

    /** {@code spawn} with default options. */
    default <R> Spawned<R> spawn(String host, java.util.List<String> anchors, Fn<R> fn) {
        return spawn(host, anchors, fn, SpawnOptions.defaults());
    }

    /**
     * Makes a channel of {@code capacity} items owned by this runtime. Pass it to other runtimes as a
     * value; every copy reaches this runtime. It lives while this runtime does and someone holds it.
     */
    <T> Chan<T> makeChan(int capacity);

    /**
     * Runs an operating-system process on {@code host} (a host daemon's name, or {@link #ANY_HOST}),
     * and returns a reference to it. Its output streams to the spec's sinks; while it runs it is
     * listed under the spec's anchor, as an entry of the host's runtime whose metadata carries
     * {@code pid} and {@code command}. The process outlives this runtime; it outlives its host only
     * when its output goes to files, not to sinks ({@link ExecSpec}).
     *
     * @throws NullPointerException  when {@code host} is null ({@link #ANY_HOST} asks for any host)
     * @throws IllegalStateException when this runtime has no namespace, or no such host runs
     * @throws CircuitException      when the host cannot start the process; the message says why
     */
    Proc exec(String host, ExecSpec spec);

    /**
     * The circuit's live namespace, where this runtime files itself under anchors and finds others.
     * This runtime is always filed under {@code /worker}.
     *
     * @throws IllegalStateException when this runtime was started without ZooKeeper
     */
    Anchors anchors();

    /**
     * The circuit's durable store.
     *
     * @throws IllegalStateException when this runtime was started without ZooKeeper
     */
    Durable durable();

    /**
     * Adds an interceptor that sees every call crossing this runtime's boundary from now on, after the
     * ones added before it. Close the subscription to remove it.
     */
    Subscription intercept(CallInterceptor interceptor);

    /** This runtime's live settings, which operators read and change with {@code circuit get/set}. */
    Settings settings();

    /**
     * Stops this runtime: closes its links and fails the calls still waiting on them with
     * {@link WorkerDiedException}. Idempotent.
     */
    @Override
    void close();

    /**
     * The runtime running the current code: inside a remote call or a {@code go} function, the runtime
     * that received it.
     *
     * @throws NoSuchElementException outside any runtime's scope
     */
    static Circuit current() {
        if (!CircuitScope.CURRENT.isBound()) {
            throw new NoSuchElementException(
                "no circuit runtime in scope: Circuit.current() works inside remote calls, go/spawn functions and the"
                    + " main thread of a 'circuit run' program; a thread started from one of them does not inherit it (a"
                    + " scoped value): pass the Circuit to it");
        }
        return CircuitScope.CURRENT.get();
    }
}
