package io.jcircuit.runtime;

import io.jcircuit.codec.RefDescriptor;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An asynchronous call sent to a peer, whose future nobody waits on with a thread. Whatever settles it
 * first (the answer, a failure, the deadline) queues it on the runtime's {@link Completions}, where
 * {@link Invoker} decodes the outcome and completes the future.
 */
final class AsyncCall extends Outstanding implements Runnable {

    /** The outcome when the deadline came first. */
    static final Object EXPIRED = new Object();

    private final AtomicReference<Object> outcome = new AtomicReference<>();
    private final Invoker invoker;
    private final Completions completions;
    final PeerSession session;
    final long id;
    private final long deadline;
    /** Where the call went, and what it was: enough to send it again where a hot swap moved its object. */
    final RefDescriptor target;
    final RefHandler handler;
    final Method method;
    final Object[] args;
    final int moves;
    final CallFuture<Object> future;
    final long start = System.nanoTime();
    long bytesOut;

    AsyncCall(Invoker invoker, Completions completions, PeerSession session, long id, long deadline,
              RefDescriptor target, RefHandler handler, Method method, Object[] args, int moves, CallFuture<Object> future) {
        this.invoker = invoker;
        this.completions = completions;
        this.session = session;
        this.id = id;
        this.deadline = deadline;
        this.target = target;
        this.handler = handler;
        this.method = method;
        this.args = args;
        this.moves = moves;
        this.future = future;
    }

    @Override
    long deadline() {
        return deadline;
    }

    @Override
    void complete(ByteBuf payload) {
        if (outcome.compareAndSet(null, payload)) {
            completions.submit(this);
        } else {
            ReferenceCountUtil.release(payload);
        }
    }

    @Override
    void fail(RuntimeException failure) {
        if (outcome.compareAndSet(null, failure)) {
            completions.submit(this);
        }
    }

    @Override
    void expire() {
        if (outcome.compareAndSet(null, EXPIRED)) {
            completions.submit(this);
        }
    }

    /** On the completer thread: completes the future from the outcome. */
    @Override
    public void run() {
        invoker.finish(this, outcome.get());
    }
}
