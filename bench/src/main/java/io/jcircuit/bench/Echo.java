package io.jcircuit.bench;

/** The JCircuit service the bench calls: the server child publishes it as {@code "echo"}. */
public interface Echo {

    /** Returns {@code s}. */
    String echo(String s);

    /** Returns {@code s} asynchronously: the caller gets a future at once, the callee answers with a completed one. */
    java.util.concurrent.CompletableFuture<String> echoAsync(String s);

    /**
     * A channel owned by the server, drained there by a consumer that counts what it receives; the
     * client sends into it for the {@code chan_items_per_s} figure.
     */
    io.jcircuit.Chan<Integer> sink();

    /** How many items the server's consumers have received so far. */
    long received();

    /**
     * Milliseconds the server JVM's JIT compilers have spent so far ({@link java.lang.management.CompilationMXBean}),
     * for the warm-ups that last until both JVMs have compiled what they run ({@link Loops#untilCompiled}).
     */
    long compileMillis();
}
