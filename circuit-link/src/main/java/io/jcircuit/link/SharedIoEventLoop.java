package io.jcircuit.link;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.ManualIoEventLoop;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.Native;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.PlatformDependent;
import io.netty.util.internal.ThreadExecutorMap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An epoll event loop that no one thread owns: whichever thread holds it runs it. A thread that waits for a
 * message soon (a caller for its answer, a call thread for the next request) takes the loop with
 * {@link #tryHold}, runs it with {@link #runNow} while it polls, and lets go with {@link #release}; what it
 * reads it handles itself, with no hand-over between threads. While nobody holds it, a driver thread does,
 * as a plain event loop would: it runs the loop when something is ready and polls for {@code spinNanos} after
 * work. When a thread {@linkplain #tryHold asks} for the loop meanwhile, the driver lets go and polls on
 * without it, taking it back once it is free.
 *
 * <p>The driver sleeps <em>without</em> holding the loop, so a thread that wants it need not wake anyone. It
 * sleeps in an epoll set of its own ({@link ManualIoEventLoop} of Netty's, owned by the driver) that watches,
 * edge-triggered, {@code sockets}: an epoll set of ours that mirrors, level-triggered, every socket registered
 * here with the interest Netty gives it. Whoever takes the loop disarms that watch (one {@code epoll_ctl}), so
 * the driver sleeps through whatever arrives meanwhile; whoever lets go arms it again, and the kernel wakes the
 * driver then if a socket is still ready. A task queued, or a timer set earlier than the driver sleeps, while
 * nobody holds the loop wakes the driver through its own loop's queue. docs/performance.md ("The
 * leader/follower loop") has the measurements behind this design.
 *
 * <p>Netty's {@link EpollIoHandler} does the I/O; this loop only ever calls it without blocking.
 */
final class SharedIoEventLoop extends AbstractScheduledEventExecutor implements IoEventLoop {

    private static final Runnable WAKE = () -> { };
    private static final int STARTED = 0;
    private static final int SHUTTING_DOWN = 1;
    private static final int SHUT_DOWN = 2;
    private static final int TERMINATED = 3;
    /** What a socket's registration is mirrored with in {@link #sockets}: level-triggered, without EPOLLET. */
    private static final int MIRRORED = Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP;
    /**
     * The driver's watch of {@link #sockets}: edge-triggered, so that it wakes once for each time one of them
     * becomes ready; disarmed (no events, one {@code epoll_ctl}) while a thread holds the loop. Netty's
     * registrations change a descriptor's interest under their own lock with {@code epoll_ctl}, from any thread.
     */
    private static final EpollIoOps ARMED = EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLET);
    private static final EpollIoOps DISARMED = EpollIoOps.EPOLLET;
    /**
     * How long the driver, having let go for a thread that asked, leaves the loop to it before it takes the
     * loop back itself (that thread polls, and takes it within a few microseconds).
     */
    private static final long HAND_OVER_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
    /** {@link #sleepingUntil} when the driver sleeps with no timer set. */
    private static final long FOREVER = Long.MIN_VALUE;

    private final IoEventLoopGroup parent;
    private final IoHandler handler;
    private final Queue<Runnable> tasks = PlatformDependent.newMpscQueue();
    private final AtomicReference<Thread> holder = new AtomicReference<>();
    private final AtomicInteger state = new AtomicInteger(STARTED);
    /** Threads that are between {@link #execute}'s check of the state and their task's place in the queue. */
    private final AtomicInteger adding = new AtomicInteger();
    private final Promise<Void> terminationFuture = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
    private final IoHandlerContext nonBlocking = new IoHandlerContext() {
        @Override
        public boolean canBlock() {
            return false;
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return 0;
        }

        @Override
        public long deadlineNanos() {
            return -1;
        }
    };
    /** The level-triggered mirror of the loop's sockets. */
    private final FileDescriptor sockets;
    private final ManualIoEventLoop sleeper;
    private final long spinNanos;
    private final Promise<Void> driverDone = new DefaultPromise<>(GlobalEventExecutor.INSTANCE);
    /** Orders the holders' changes to the driver's watch; guards {@link #watched} and {@link #watch}. */
    private final Object watchLock = new Object();
    private boolean watched = true;
    /** The driver's own loop's registration of {@link #sockets}; null until the driver has started. */
    private IoRegistration watch;

    private volatile Thread driver;
    /** A thread asked the driver to let go of the loop. */
    private volatile boolean wanted;
    /** The next timer's deadline as the last holder left it, or -1. */
    private volatile long wakeAt = -1;
    /** Until when the driver sleeps, or {@link #FOREVER}. */
    private volatile long sleepingUntil = FOREVER;
    private volatile long quietPeriodNanos;
    private volatile long shutdownTimeoutNanos;

    /** Whether Netty's handler has closed its channels and descriptors; only then the driver closes {@link #sockets}. */
    private volatile boolean destroyed;
    /** Why the driver failed, set before the loop starts to shut down for it; null while it has not. */
    private volatile Throwable failure;

    // Only the holder touches these.
    private boolean initialized;
    private long lastTaskRun;

    /**
     * @param threads   starts the driver thread
     * @param handlers  Netty's epoll handler, as {@link EpollIoHandler#newFactory()} gives it
     * @param spinNanos how long the driver polls after it had work before it lets go and sleeps; 0 not at all
     */
    SharedIoEventLoop(IoEventLoopGroup parent, Executor threads, IoHandlerFactory handlers, long spinNanos) {
        this.parent = parent;
        this.spinNanos = spinNanos;
        this.handler = handlers.newHandler(this);
        try {
            this.sockets = Native.newEpollCreate();
        } catch (RuntimeException e) {
            handler.destroy();
            throw e;
        }
        this.sleeper = new ManualIoEventLoop(null, null, EpollIoHandler.newFactory());
        threads.execute(this::drive);
    }

    // ---- holding the loop

    /**
     * The calling thread takes the loop if nobody holds it; returns whether it did. When the driver holds it
     * and {@code ask} is set, it is asked to let go, and a later call may succeed. A thread that holds the
     * loop must {@link #release} it, and must not block or run code of its callers' while it holds it.
     */
    boolean tryHold(boolean ask) {
        if (state.get() >= SHUTTING_DOWN) {
            return false;
        }
        if (!holder.compareAndSet(null, Thread.currentThread())) {
            if (ask && holder.get() == driver) {
                wanted = true;
            }
            return false;
        }
        try {
            unwatch();
        } catch (Throwable t) {
            // the watch is as it was (epoll_ctl failed): this thread does not hold the loop after all
            synchronized (watchLock) {
                watched = true;
                holder.set(null);
            }
            if (!tasks.isEmpty()) {
                wakeDriver(); // queued while this thread seemed to hold the loop
            }
            throw t;
        }
        return true;
    }

    /**
     * The holder runs what is ready: I/O, due timers and queued tasks, once, without blocking. Returns how
     * many it ran.
     */
    int runNow() {
        if (holder.get() != Thread.currentThread()) {
            throw new IllegalStateException("the loop is not held by " + Thread.currentThread());
        }
        return runOnce();
    }

    /** The holder lets go of the loop; the driver wakes if something is ready or due. */
    void release() {
        if (holder.get() != Thread.currentThread()) {
            throw new IllegalStateException("the loop is not held by " + Thread.currentThread());
        }
        long next = nextScheduledTaskDeadlineNanos();
        wakeAt = next; // while it holds the loop: a later holder's word is the last
        synchronized (watchLock) {
            holder.set(null);
            watchAgain();
        }
        long sleeping = sleepingUntil;
        if (!tasks.isEmpty() || state.get() >= SHUTTING_DOWN
            || (next != -1 && (sleeping == FOREVER || next - sleeping < 0))) {
            wakeDriver();
        }
    }

    private void wakeDriver() {
        try {
            sleeper.execute(WAKE);
        } catch (RejectedExecutionException done) {
            // the driver has finished: nothing is left to run
        }
    }

    private int runOnce() {
        if (!initialized) {
            initialized = true;
            handler.initialize();
        }
        EventExecutor old = ThreadExecutorMap.setCurrentExecutor(this);
        try {
            int io = handler.run(nonBlocking);
            return io + runTasks();
        } finally {
            ThreadExecutorMap.setCurrentExecutor(old);
        }
    }

    /**
     * Runs the due timers and the tasks queued so far; not those that they queue in turn (a read that stops
     * after its share queues the rest), so that a holder gets back to what it waits for between turns.
     */
    private int runTasks() {
        fetchFromScheduledTaskQueue(tasks);
        int ran = 0;
        Runnable task;
        for (int left = tasks.size(); left > 0 && (task = tasks.poll()) != null; left--) {
            safeExecute(task);
            ran++;
        }
        if (ran > 0) {
            lastTaskRun = getCurrentTimeNanos();
        }
        return ran;
    }

    /**
     * The new holder stops the driver's watch of {@link #sockets}. Under {@link #watchLock}, so that it comes
     * after the last holder armed it again, however close the two follow each other.
     */
    private void unwatch() {
        synchronized (watchLock) {
            if (!watched) {
                return;
            }
            watched = false;
            if (watch != null) {
                watch.submit(DISARMED);
            }
        }
    }

    /**
     * The holder, letting go, arms the driver's watch of {@link #sockets} again; if one is ready, the kernel
     * wakes the driver. Under {@link #watchLock}, with {@link #holder} cleared.
     */
    private void watchAgain() {
        if (watched) {
            return;
        }
        watched = true;
        if (watch != null) {
            watch.submit(ARMED);
        }
    }

    // ---- the driver

    private void drive() {
        Thread me = Thread.currentThread();
        driver = me;
        sleeper.setOwningThread(me);
        try {
            IoRegistration registration = sleeper.register(new Watch()).sync().getNow();
            synchronized (watchLock) {
                registration.submit(watched ? ARMED : DISARMED);
                watch = registration;
            }
            while (!turn()) {
                sleep();
            }
        } catch (Throwable t) {
            org.slf4j.LoggerFactory.getLogger(SharedIoEventLoop.class)
                .error("event loop driver failed; the loop shuts down and closes its channels", t);
            stopAfter(t);
        } finally {
            try {
                sleeper.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                while (!sleeper.isTerminated()) {
                    sleeper.runNow();
                }
            } finally {
                if (destroyed) {
                    // only now: a registration that could still change its mirror would use a closed descriptor
                    closeQuietly(sockets);
                }
                driverDone.trySuccess(null);
            }
        }
    }

    /**
     * The driver failed: it shuts the loop down as {@link #shutdownGracefully} would, without a quiet period and
     * without running the I/O again (what failed may fail again), so that nobody takes the loop any more, its
     * channels close (their links go down) and a close of the transport returns. The termination future fails
     * with the cause.
     */
    private void stopAfter(Throwable cause) {
        failure = cause; // before the channels close: what their handlers say on the way names it
        quietPeriodNanos = 0;
        shutdownTimeoutNanos = 0;
        for (int s; (s = state.get()) < SHUTTING_DOWN; ) {
            if (state.compareAndSet(s, SHUTTING_DOWN)) {
                break;
            }
        }
        if (state.get() == TERMINATED) {
            terminationFuture.tryFailure(cause);
            return;
        }
        Thread me = Thread.currentThread();
        // a poller that holds the loop lets go within its turn, and nobody new takes it once shutting down
        for (Thread h; (h = holder.get()) != me && !holder.compareAndSet(null, me); ) {
            if (h != null && !h.isAlive()) {
                holder.compareAndSet(h, me); // it died holding the loop: nobody else would let go for it
                continue;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
        try {
            shutDown(cause);
        } catch (Throwable again) {
            cause.addSuppressed(again);
            org.slf4j.LoggerFactory.getLogger(SharedIoEventLoop.class)
                .error("event loop could not close its channels after its driver failed; its descriptors stay open",
                    again);
            state.set(TERMINATED); // nothing runs here any more: tasks are refused, not left waiting
            terminationFuture.tryFailure(cause);
        }
    }

    /** Sleeps until a socket is ready, a task is queued, or the next timer is due, as holders left them. */
    private void sleep() {
        long until;
        do {
            until = wakeAt;
            sleepingUntil = until == -1 ? FOREVER : until;
        } while (until != wakeAt);
        long wait = 0; // until woken
        if (until != -1) {
            wait = until - getCurrentTimeNanos();
            if (wait <= 0) {
                if (holder.get() == null) {
                    return; // due: run it
                }
                // the holder runs it, and wakes the driver as it lets go with the timer after it
                sleepingUntil = FOREVER;
                wait = 0;
                if (holder.get() == null) {
                    // it let go meanwhile and saw the due deadline above, so it did not wake the driver: run it
                    return;
                }
            }
        }
        sleeper.run(wait);
        sleepingUntil = getCurrentTimeNanos();
    }

    /**
     * The driver's turn: it runs the loop until it has had no work for {@code spinNanos}, yielding the CPU after
     * each run that found nothing, as {@link SpinningSelect} does for a loop of Netty's. When a thread asks
     * for the loop, the driver lets go and polls for the rest of that time without it, taking it back once the
     * thread that asked has taken it and let go again (or has not taken it within {@link #HAND_OVER_NANOS}),
     * so that it need not be woken for what comes next. Returns true once the loop has
     * terminated.
     */
    private boolean turn() {
        Thread me = Thread.currentThread();
        boolean holding = false;
        long handedOverAt = 0; // when it let go for a thread that asked, until that thread has taken the loop
        boolean handingOver = false;
        try {
            long lastWork = System.nanoTime();
            for (;;) {
                boolean worked = false;
                Thread held = holder.get();
                if (handingOver && (held != null || System.nanoTime() - handedOverAt >= HAND_OVER_NANOS)) {
                    handingOver = false;
                }
                if (!holding && !handingOver && held == null && holder.compareAndSet(null, me)) {
                    unwatch();
                    wanted = false;
                    holding = true;
                }
                if (holding) {
                    int ran = runOnce();
                    if (state.get() >= SHUTTING_DOWN) {
                        holding = false; // for good: nobody takes it after this
                        shutDown(null);
                        return true;
                    }
                    if (ran > 0) {
                        lastWork = System.nanoTime();
                        worked = true;
                    }
                    if (wanted) {
                        holding = false;
                        release();
                        // not straight back: the thread that asked takes it on its next try
                        handingOver = true;
                        handedOverAt = System.nanoTime();
                    }
                }
                if (System.nanoTime() - lastWork >= spinNanos) {
                    return false;
                }
                if (!worked) {
                    // only after a turn with nothing to do: yielding after each turn with work cost 8 callers
                    // a third of their calls with both sides sharing (docs/performance.md)
                    Thread.yield();
                }
            }
        } finally {
            if (holding) {
                release();
            }
        }
    }

    /**
     * The driver, holding the loop, shuts it down, in the phases of Netty's own event loops: while shutting
     * down, it runs what is queued until none came for the quiet period or the timeout is up, cancelling the
     * timers set meanwhile; then it takes no more tasks from other threads (shut down), runs those they queued
     * before, closes the channels, runs what closing them queued, and terminates. It keeps the loop; nobody may
     * take it any more. The termination future fails with {@code cause} if there is one.
     */
    private void shutDown(Throwable cause) {
        long started = getCurrentTimeNanos();
        lastTaskRun = started;
        for (;;) {
            cancelScheduledTasks();
            if (cause == null) {
                runOnce();
            } else {
                runTasks();
            }
            long now = getCurrentTimeNanos();
            if (state.get() >= SHUT_DOWN || now - lastTaskRun >= quietPeriodNanos
                || now - started >= shutdownTimeoutNanos) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        for (int s; (s = state.get()) < SHUT_DOWN; ) {
            if (state.compareAndSet(s, SHUT_DOWN)) {
                break;
            }
        }
        while (adding.get() != 0) {
            // a task that passed execute's check before: it is in the queue in a moment (its thread may have
            // been switched out between the two, so the CPU is given up rather than spun on)
            Thread.yield();
        }
        cancelScheduledTasks();
        if (cause == null) {
            runOnce();
        }
        runTasks();
        handler.prepareToDestroy();
        runTasks();
        handler.destroy();
        destroyed = true;
        while (runTasks() > 0) {
            // what closing the channels queued
        }
        cancelScheduledTasks();
        state.set(TERMINATED);
        if (cause == null) {
            terminationFuture.trySuccess(null);
        } else {
            terminationFuture.tryFailure(cause);
        }
    }

    /** The driver's watch of {@link #sockets}: waking the driver is all it does. */
    private final class Watch implements EpollIoHandle {
        @Override
        public FileDescriptor fd() {
            return sockets;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent ioEvent) {
            // the driver tries to take the loop once its own loop returns
        }

        @Override
        public void close() {
            // the driver closes the descriptor once its own loop is done
        }
    }

    // ---- registrations

    @Override
    public Future<IoRegistration> register(IoHandle handle) {
        Promise<IoRegistration> promise = newPromise();
        if (inEventLoop()) {
            registerNow(handle, promise);
        } else {
            execute(() -> registerNow(handle, promise));
        }
        return promise;
    }

    private void registerNow(IoHandle handle, Promise<IoRegistration> promise) {
        IoRegistration registration;
        try {
            registration = handler.register(handle);
        } catch (Exception e) {
            promise.setFailure(e);
            return;
        }
        promise.setSuccess(handle instanceof EpollIoHandle epoll ? new Mirrored(registration, epoll) : registration);
    }

    /** Netty's registration of a socket, whose interest is mirrored, level-triggered, in {@link #sockets}. */
    private final class Mirrored implements IoRegistration {
        private final IoRegistration netty;
        private final EpollIoHandle handle;
        private int mirrored = -1; // -1: not in the set

        Mirrored(IoRegistration netty, EpollIoHandle handle) {
            this.netty = netty;
            this.handle = handle;
        }

        @Override
        public <T> T attachment() {
            return netty.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            long result = netty.submit(ops);
            if (result < 0) {
                return result;
            }
            int interest = ((EpollIoOps) ops).value() & MIRRORED;
            synchronized (this) {
                int fd = handle.fd().intValue();
                try {
                    if (interest == 0) {
                        // out of the set, so that its ERR/HUP do not wake the driver; Netty's own set still
                        // reports them to whoever runs the loop next. Netty's stream channels always want
                        // EPOLLRDHUP, so a link's socket never gets here.
                        if (mirrored >= 0) {
                            mirrored = -1;
                            Native.epollCtlDel(sockets.intValue(), fd);
                        }
                    } else if (mirrored < 0) {
                        Native.epollCtlAdd(sockets.intValue(), fd, interest);
                        mirrored = interest;
                    } else if (mirrored != interest) {
                        Native.epollCtlMod(sockets.intValue(), fd, interest);
                        mirrored = interest;
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return result;
        }

        @Override
        public boolean isValid() {
            return netty.isValid();
        }

        @Override
        public boolean cancel() {
            synchronized (this) {
                if (mirrored >= 0 && handle.fd().isOpen()) {
                    try {
                        Native.epollCtlDel(sockets.intValue(), handle.fd().intValue());
                    } catch (IOException ignored) {
                        // closed meanwhile: the kernel has taken it out
                    }
                }
                mirrored = -1;
            }
            return netty.cancel();
        }
    }

    // ---- EventLoop

    @Override
    public boolean inEventLoop(Thread thread) {
        return holder.get() == thread;
    }

    @Override
    public void execute(Runnable task) {
        if (task == null) {
            throw new NullPointerException("task");
        }
        if (inEventLoop()) {
            tasks.add(task); // the holder runs it, in this turn or the next
            return;
        }
        // counted while it checks and adds, so that the driver, once it has stopped taking tasks, waits until
        // every task that passed the check is in the queue, and runs it, before it terminates; a loop already shut
        // down is refused before the count, so that callers that keep coming cannot hold that wait up
        if (state.get() >= SHUT_DOWN) {
            throw new RejectedExecutionException("event loop shut down");
        }
        adding.getAndIncrement();
        try {
            if (state.get() >= SHUT_DOWN) {
                throw new RejectedExecutionException("event loop shut down");
            }
            tasks.add(task);
        } finally {
            adding.getAndDecrement();
        }
        if (holder.get() == null) {
            wakeDriver();
        }
    }

    @Override
    public SharedIoEventLoop next() {
        return this;
    }

    @Override
    public IoEventLoopGroup parent() {
        return parent;
    }

    @Deprecated
    @Override
    public ChannelFuture register(Channel channel) {
        return register(new DefaultChannelPromise(channel, this));
    }

    @Deprecated
    @Override
    public ChannelFuture register(ChannelPromise promise) {
        promise.channel().unsafe().register(this, promise);
        return promise;
    }

    @Deprecated
    @Override
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        channel.unsafe().register(this, promise);
        return promise;
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return handler.isCompatible(handleType);
    }

    @Override
    public boolean isIoType(Class<? extends IoHandler> handlerType) {
        return handler.getClass().equals(handlerType);
    }

    // ---- lifecycle

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        if (quietPeriod < 0 || timeout < quietPeriod) {
            throw new IllegalArgumentException("quietPeriod " + quietPeriod + " and timeout " + timeout);
        }
        quietPeriodNanos = unit.toNanos(quietPeriod);
        shutdownTimeoutNanos = unit.toNanos(timeout);
        if (state.compareAndSet(STARTED, SHUTTING_DOWN)) {
            wakeDriver();
        }
        return terminationFuture;
    }

    @Deprecated
    @Override
    public void shutdown() {
        shutdownGracefully(0, 0, TimeUnit.SECONDS);
        for (int s; (s = state.get()) < SHUT_DOWN; ) {
            if (state.compareAndSet(s, SHUT_DOWN)) {
                break;
            }
        }
        wakeDriver();
    }

    @Override
    public Future<?> terminationFuture() {
        return terminationFuture;
    }

    @Override
    public boolean isShuttingDown() {
        return state.get() >= SHUTTING_DOWN;
    }

    @Override
    public boolean isShutdown() {
        return state.get() >= SHUT_DOWN;
    }

    @Override
    public boolean isTerminated() {
        return state.get() == TERMINATED;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminationFuture.await(timeout, unit);
    }

    /** Why the driver failed, once it has; null otherwise (also while the loop shuts down for that reason). */
    Throwable failure() {
        return failure;
    }

    /** Completes once the driver thread has closed what it owns, after {@link #terminationFuture()}. */
    Future<Void> driverDone() {
        return driverDone;
    }

    private static void closeQuietly(FileDescriptor fd) {
        if (fd != null) {
            try {
                fd.close();
            } catch (IOException ignored) {
                // nothing to do about it
            }
        }
    }
}
