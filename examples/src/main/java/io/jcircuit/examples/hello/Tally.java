package io.jcircuit.examples.hello;

/** A counter the demo's driver keeps and hands out by reference. */
public interface Tally {
    void add(String worker, long words);
}
