package io.jcircuit.runtime.ops;

/** {@link Ops#profile}: a self-contained HTML flame graph and how it was made. */
public record FlameGraph(String kind, String engine, int seconds, byte[] html) {
}
