package io.jcircuit.bench;

/** The JCircuit service the bench calls: the server child publishes it as {@code "echo"}. */
public interface Echo {

    /** Returns {@code s}. */
    String echo(String s);
}
