package io.jcircuit.bench;

import java.rmi.Remote;
import java.rmi.RemoteException;

/** The Java RMI peer's service: the same echo as {@link Echo}. */
public interface RmiEcho extends Remote {

    String echo(String s) throws RemoteException;

    /** Milliseconds the server JVM's JIT compilers have spent so far, as {@link Echo#compileMillis()}. */
    long compileMillis() throws RemoteException;
}
