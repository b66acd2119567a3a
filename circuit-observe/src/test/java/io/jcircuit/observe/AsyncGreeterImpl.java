package io.jcircuit.observe;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Completes its futures on a thread of {@link CompletableFuture#delayedExecutor}, as a method waiting on I/O would. */
class AsyncGreeterImpl implements AsyncGreeter {

    @Override
    public CompletableFuture<String> greetLater(String name, long millis) {
        return CompletableFuture.supplyAsync(() -> "hello " + name,
            CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS));
    }

    @Override
    public CompletableFuture<String> failLater(String message) {
        CompletableFuture<String> f = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS)
            .execute(() -> f.completeExceptionally(new IllegalStateException(message)));
        return f;
    }
}
