package io.jcircuit.runtime;

import io.jcircuit.codec.RefDescriptor;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.atomic.AtomicReference;

/**
 * An asynchronous call sent to a peer, whose future nobody waits on with a thread. Whatever settles it
 * first (the answer, a failure, the deadline) queues it on the runtime's {@link Completions}, where
 * {@link Invoker} decodes the outcome and completes the future.
 */
final class AsyncCall extends Outstanding implements Runnable {

    /** The outcome when the deadline came first. */
    private static final Object EXPIRED = new Object();

    private final AtomicReference<Object> outcome = new AtomicReference<>();
    private final Invoker invoker;
    private final Completions completions;
    private final CallDeadlines deadlines;
    final PeerSession session;
    final long id;
    /** Where the call went. */
    final RefDescriptor target;
    final Invoker.AsyncRequest request;
    /** When it began, before its {@code outgoing} (as {@link System#nanoTime()}). */
    final long start;
    long bytesOut;

    AsyncCall(Invoker invoker, Completions completions, CallDeadlines deadlines, PeerSession session, long id,
              RefDescriptor target, Invoker.AsyncRequest request, long start) {
        this.invoker = invoker;
        this.completions = completions;
        this.deadlines = deadlines;
        this.session = session;
        this.id = id;
        this.target = target;
        this.request = request;
        this.start = start;
    }

    @Override
    long deadline() {
        return request.deadline();
    }

    @Override
    void complete(ByteBuf payload) {
        if (!settle(payload)) {
            ReferenceCountUtil.release(payload);
        }
    }

    @Override
    void fail(RuntimeException failure) {
        settle(failure);
    }

    @Override
    void expire() {
        settle(EXPIRED);
    }

    /**
     * The first outcome wins: the call leaves the link's books at once (its outgoing slot is free
     * again before its future completes, so a dependent on the completer thread that calls again
     * never waits for a slot that an answer queued behind it holds), and is queued for completion.
     */
    private boolean settle(Object o) {
        if (!outcome.compareAndSet(null, o)) {
            return false;
        }
        session.pending.remove(id, this);
        deadlines.remove(this);
        session.outgoingEnded();
        completions.submit(this);
        return true;
    }

    /** Whether an outcome came (then the call is off the link's books, or must be taken off them). */
    boolean settled() {
        return outcome.get() != null;
    }

    /** On the completer thread: completes the future from the outcome. */
    @Override
    public void run() {
        invoker.finish(this, outcome.get());
    }
}
