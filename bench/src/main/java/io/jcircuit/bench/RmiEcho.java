package io.jcircuit.bench;

import java.rmi.Remote;
import java.rmi.RemoteException;

/** The Java RMI peer's service: the same echo as {@link Echo}. */
public interface RmiEcho extends Remote {

    String echo(String s) throws RemoteException;
}
