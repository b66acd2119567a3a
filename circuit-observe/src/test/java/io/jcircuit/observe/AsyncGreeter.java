package io.jcircuit.observe;

import java.util.concurrent.CompletableFuture;

/** What the tests call asynchronously across runtimes: each method's call completes with its future. */
public interface AsyncGreeter {

    /** Greets {@code name} after {@code millis}. */
    CompletableFuture<String> greetLater(String name, long millis);

    /** Fails with {@link IllegalStateException} with {@code message}, from another thread. */
    CompletableFuture<String> failLater(String message);
}
