package io.jcircuit.anchor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a task on its own virtual thread after each {@link #signal()}, one run at a time; signals
 * that arrive while a run is queued fold into it, and a signal during a run queues one more.
 */
public final class Coalescer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Coalescer.class);

    private final String name;
    private final Runnable task;
    private final ExecutorService thread;
    private final AtomicBoolean queued = new AtomicBoolean();
    private volatile boolean closed;

    /** @param name the name of the virtual thread that runs {@code task}, also used in its failure log line */
    public Coalescer(String name, Runnable task) {
        this.name = name;
        this.task = task;
        this.thread = Executors.newSingleThreadExecutor(Thread.ofVirtual().name(name).factory());
    }

    /** Asks for a run of the task; returns at once. */
    public void signal() {
        if (queued.compareAndSet(false, true)) {
            try {
                thread.execute(this::runOnce);
            } catch (RejectedExecutionException closed) {
                queued.set(false);
            }
        }
    }

    private void runOnce() {
        queued.set(false);
        if (closed) {
            return;
        }
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("{} failed: {}", name, e.toString(), e);
        }
    }

    /** Stops: no run starts after this returns (one in progress finishes). */
    @Override
    public void close() {
        closed = true;
        thread.shutdown();
    }

    boolean isClosed() {
        return closed;
    }
}
