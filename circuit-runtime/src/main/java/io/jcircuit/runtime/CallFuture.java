package io.jcircuit.runtime;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The future an asynchronous call returns, and every future derived from it. Dependents added
 * without an executor run on the runtime's completer thread ({@link Completions}), or on the thread of
 * another dependent that helps complete them, as {@link CompletableFuture} does; the {@code *Async} ones
 * without an executor run each on a new virtual thread. Waiting on the completer thread for a
 * future that is not done throws {@link IllegalStateException}: that future's answer could only be
 * completed by the thread that would be waiting for it.
 */
final class CallFuture<T> extends CompletableFuture<T> {

    private final Completions completions;

    CallFuture(Completions completions) {
        this.completions = completions;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CallFuture<>(completions);
    }

    @Override
    public Executor defaultExecutor() {
        return completions.defaultExecutor();
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        refuseWaitOnCompleter();
        return super.get();
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        refuseWaitOnCompleter();
        return super.get(timeout, unit);
    }

    @Override
    public T join() {
        refuseWaitOnCompleter();
        return super.join();
    }

    private void refuseWaitOnCompleter() {
        if (!isDone() && completions.isCompleterThread()) {
            throw new IllegalStateException("waiting for an unfinished remote call's future in a dependent that runs on"
                + " the thread completing such futures would never end; add the dependent with an *Async method"
                + " (thenApplyAsync, whenCompleteAsync, ...) to run it on a thread of its own");
        }
    }
}
