package io.jcircuit;

import java.io.Serializable;

/**
 * A function that can travel to another runtime: a serializable lambda, or a record that implements
 * this interface. It is copied to the remote runtime, run there on a new virtual thread, and its
 * result is copied back.
 *
 * <p>Whatever the function captures is copied with it, so capture values and references, not local
 * resources. Inside the function, {@link Circuit#current()} is the runtime it runs in.
 *
 * @param <R> the result type; use {@code Void} and return {@code null} for no result
 */
@FunctionalInterface
public interface Fn<R> extends Serializable {

    /** Runs on the remote runtime. Anything it throws is rethrown to the caller (see {@link RemoteException}). */
    R call() throws Exception;
}
