package io.jcircuit;

/**
 * Where a {@link Proc}'s standard output or error goes: pass a reference to one
 * ({@code circuit.ref(OutputSink.class, sink)}), and the host calls it with each chunk it reads, in
 * order, then {@link #close()} at the end of the stream.
 */
public interface OutputSink {

    void write(byte[] chunk);

    /** The stream ended. (Not a default method: a default method runs locally on a reference.) */
    void close();
}
