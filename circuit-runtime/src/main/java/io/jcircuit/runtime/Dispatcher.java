package io.jcircuit.runtime;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;
import io.jcircuit.CircuitException;
import io.jcircuit.CircuitScope;
import io.jcircuit.Deadline;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.codec.CodecException;
import io.jcircuit.codec.Message;
import io.jcircuit.codec.MessageCodec;
import io.jcircuit.codec.RemoteFailure;
import io.jcircuit.link.FrameCodec;
import io.jcircuit.link.Link;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * Incoming messages. On the event loop, {@link #onData} only routes: an answer goes to the caller
 * waiting for it, a request to a new virtual thread. The virtual thread decodes the request, runs it
 * inside the runtime's scope and the caller's deadline, and sends the answer.
 */
final class Dispatcher implements AutoCloseable {

    /** How a refusal of a call whose deadline had passed ends: the caller reads it as "not run" ({@link Invoker}). */
    static final String NOT_RUN = "; it was not run";

    /**
     * The method name a callee's {@code completed} has for a request it did not read: one it could not
     * decode, or refused unread as it closed ({@link io.jcircuit.CallEvent#method}).
     */
    static final String UNREAD = "?";


    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    private final CircuitRuntime runtime;
    private final Instrumentation instrumentation;
    private final ExecutorService virtualThreads;
    /** The call thread polling for the next request, if any; see {@link #linger}. */
    private final java.util.concurrent.atomic.AtomicReference<Lingerer> lingering =
        new java.util.concurrent.atomic.AtomicReference<>();
    private final long lingerNanos;
    /**
     * Whether an answer to a peer that keeps several calls in flight goes through the event loop
     * ({@link PeerSession#pipelining}): only where the loop has a CPU of its own to write it on. On one CPU
     * the hand-over is a switch to the loop's thread, and 8 callers made 2-4 % fewer calls with it.
     */
    private final boolean answersToBusyPeersViaLoop = Runtime.getRuntime().availableProcessors() > 1;
    /** Counts the call threads started but not running yet, which pollers step aside for. */
    private final Waiters waiters;
    /** Requests from other runtimes being served now. */
    private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
    /** The answers of {@code go}s on this runtime itself that their callers wait for; {@link #close} fails them. */
    private final java.util.Set<CompletableFuture<Message>> localGos = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Set by {@link #beginClose}: a call from another runtime that has not begun to run is refused. */
    private volatile boolean closing;
    /**
     * Requests from other runtimes given a call thread that have neither begun to run the callee's code
     * nor been answered ({@code go}s count as begun); {@link #awaitDecided} waits for them. Requests that
     * wait for a slot past a peer's incoming limit are not counted: a close drops them with the session,
     * and their callers cannot know whether they ran.
     */
    private final java.util.concurrent.atomic.AtomicInteger undecided = new java.util.concurrent.atomic.AtomicInteger();
    /** {@code go} requests from other runtimes served to the end. */
    private final java.util.concurrent.atomic.AtomicLong gosDone = new java.util.concurrent.atomic.AtomicLong();

    Dispatcher(CircuitRuntime runtime, Instrumentation instrumentation) {
        this.runtime = runtime;
        this.instrumentation = instrumentation;
        this.waiters = runtime.waiters();
        this.virtualThreads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("circuit-call-" + runtime.id()).factory());
        this.lingerNanos = java.util.concurrent.TimeUnit.MICROSECONDS.toNanos(runtime.config().link().spinMicros());
    }

    /**
     * Event loop: route one DATA payload. Takes ownership of {@code payload}. Its sender held it for
     * {@code senderHeldNanos} before sending it on this connection (a replay after an outage; 0 otherwise).
     */
    void onData(Link link, ByteBuf payload, long senderHeldNanos) {
        PeerSession s = (PeerSession) link.attachment();
        byte kind = payload.readableBytes() >= MessageCodec.PREFIX_LENGTH ? MessageCodec.kind(payload) : -1;
        if (MessageCodec.isAnswer(kind)) {
            Outstanding p = s.pending.remove(MessageCodec.callId(payload));
            if (p != null) {
                p.complete(payload);
            } else {
                // The caller gave up at its deadline. The answer may carry references, which the callee
                // counted as held here: read, they are released once unreachable, as any dropped ones.
                releaseLate(s, payload);
            }
        } else if (MessageCodec.isRequest(kind)) {
            // When the request came in: now, less a stall of this process it may have waited out unread
            // in the socket (a caller's deadline keeps running while this process is stopped or paused),
            // less what the caller's side held it in an outage before it sent it again
            long now = System.nanoTime();
            long arrived = now - Math.max(runtime.transportStalledNanos(now), senderHeldNanos);
            if (s.incomingStarted(payload, arrived)) {
                start(s, payload, arrived, MessageCodec.isGo(kind));
            } // else it waits for one of the peer's calls to end (ended() starts it); the link reads on
        } else if (kind == MessageCodec.KIND_RELEASE) {
            try {
                // plain longs, no Fory: cheap enough for the event loop
                if (runtime.codec().decode(payload, s.link.peer()) instanceof Message.Release r) {
                    runtime.exports().release(s.link.peer(), r.handles(), r.counts());
                }
            } catch (CodecException e) {
                protocolError(s, "malformed release: " + e.getMessage());
            } finally {
                payload.release();
            }
        } else {
            payload.release();
            protocolError(s, "unknown message kind " + kind);
        }
    }

    /**
     * Serves a request from {@code s}'s peer that has its incoming slot, on a call thread: a lingering
     * one (not for a {@code go}), or a new one. Any thread.
     */
    private void start(PeerSession s, ByteBuf payload, long arrived, boolean go) {
        if (!go) {
            undecided.incrementAndGet(); // until it begins to run or is answered (serveRemote)
        }
        Runnable serve = () -> serveRemote(s, payload, arrived);
        if (!go) {
            if (handOver(serve)) {
                return;
            }
            waiters.crowded(); // no call thread lingers for it: calls overlap
        }
        waiters.callThreadStarting();
        try {
            virtualThreads.execute(() -> {
                waiters.callThreadStarted();
                serve.run();
                linger();
            });
        } catch (RejectedExecutionException closing) {
            waiters.callThreadStarted();
            if (!go) {
                decided(new Served(false)); // it will not run, and nothing waits to answer it
            }
            completedUnanswered(s, MessageCodec.callId(payload), UNREAD, payload.readableBytes(), System.nanoTime());
            payload.release(); // the runtime is closing; this link goes down with it
            for (PeerSession.Parked next; (next = s.incomingEnded()) != null; ) {
                ByteBuf behind = next.payload();
                completedUnanswered(s, MessageCodec.callId(behind), UNREAD, behind.readableBytes(), System.nanoTime());
                behind.release(); // and so does what waited behind it
            }
        }
    }

    /** An answer nobody waits for: read on a virtual thread, off the event loop, and dropped. */
    private void releaseLate(PeerSession s, ByteBuf payload) {
        try {
            virtualThreads.execute(() -> {
                try {
                    runtime.codec().decode(payload, s.link.peer());
                } catch (CodecException e) {
                    runtime.unread(s, e); // and what could be read is released once unreachable
                } catch (RuntimeException ignored) {
                    // nothing to release: dropped
                } finally {
                    payload.release();
                }
            });
        } catch (RejectedExecutionException closing) {
            payload.release();
        }
    }

    /**
     * Any thread: gives {@code serve} to a call thread that lingers after its call, if one does; false
     * when none does, and a new virtual thread must serve it.
     */
    private boolean handOver(Runnable serve) {
        Lingerer l = lingering.getAndSet(null);
        if (l == null) {
            return false;
        }
        l.next = serve;
        return true;
    }

    /**
     * A call thread that has sent its answer polls for the next request for up to the spin budget
     * ({@link io.jcircuit.link.LinkConfig#spinMicros}), while no other call thread does. Starting a new
     * virtual thread wakes a carrier thread, about 10 us on the VMs we measure on; a thread that still
     * polls takes the request at once, serves it, and lingers again; where the transport shares its event
     * loop, it runs the loop itself while no call runs, and reads the request it is then handed. Each turn
     * yields the CPU to the operating system ({@link io.jcircuit.link.CpuYield}), so the event loops keep
     * running on a small machine. {@code go} requests always get a new thread, as {@code go} promises. A polling
     * thread keeps its carrier, so it stops as soon as a new call thread waits for one
     * ({@link Waiters#callThreadWaits}): in a JVM with one carrier, a thread that kept being handed
     * calls held up every other call thread (8 callers made 36 k calls/s instead of 116 k).
     */
    private void linger() {
        if (lingerNanos == 0 || !waiters.busy()) {
            return;
        }
        Lingerer me = new Lingerer();
        while (!waiters.callThreadWaits() && lingering.compareAndSet(null, me)) {
            long end = System.nanoTime() + lingerNanos;
            Runnable next;
            boolean held = false;
            try {
                while ((next = me.next) == null) {
                    if ((System.nanoTime() - end >= 0 || waiters.callThreadWaits())
                            && lingering.compareAndSet(me, null)) {
                        return; // nobody took this thread, or other call threads need the carrier it holds
                    }
                    // alone: no call runs, so the request that comes next is the one this thread waits for
                    held = waiters.pollTurn(held, running.get() == 0); // or the loop took it and is about to hand over
                }
            } finally {
                waiters.letGo(held); // before the call: it may block or take long
            }
            me.next = null;
            Thread.interrupted(); // a call starts with a clear interrupt flag, as on a new thread
            next.run();
        }
    }

    /** A call thread waiting for a request; {@link #handOver} fills {@link #next}. */
    private static final class Lingerer {
        volatile Runnable next;
    }

    /**
     * Serves one request from {@code s}'s peer, on a call thread. Whatever throws here, the request is
     * answered (with a failure when it had no answer yet), gets its one {@code completed}, and gives its
     * incoming slot and its count in {@link #running} back once: an asynchronous method's answer does that
     * when it goes ({@link #answerLater}), once {@link #answerWhenDone} has taken it over.
     */
    private void serveRemote(PeerSession s, ByteBuf payload, long arrived) {
        long callId = MessageCodec.callId(payload);
        boolean go = MessageCodec.isGo(MessageCodec.kind(payload));
        running.incrementAndGet();
        long start = System.nanoTime();
        long bytesIn = payload.readableBytes();
        boolean later = false; // the answer, its completed and ended() are answerLater's: this thread is done with them
        long deadline = NO_WAIT; // the caller's, once the request is read
        Served served = new Served(go);
        try {
            Message request;
            try {
                request = runtime.codec().decode(payload, s.link.peer());
            } catch (CodecException e) {
                runtime.unread(s, e); // what it carried of the caller's own is held here no longer
                String why = "worker " + runtime.id() + " could not decode the request: " + e.getMessage();
                served.notRun = true; // its name unread: completed as UNREAD, FAILED
                try {
                    answerServed(s, new Message.Failure(callId, RemoteFailure.describe(e.beyondReaderLimits()
                        ? new io.jcircuit.UnreadableValueException(why + NOT_RUN) : new CircuitException(why))),
                        defaultDeadline(arrived), served, bytesIn, start);
                } finally {
                    if (e.beyondReaderLimits()) {
                        // a sound envelope, only its values unreadable here: that call fails, the link is sound
                        LOG.debug("request #{} from {} refused: {}", callId, s.link, e.getMessage());
                    } else {
                        protocolError(s, "undecodable request #" + callId + ": " + e.getMessage());
                    }
                }
                return;
            } finally {
                payload.release();
            }
            Message answer = serve(request, s.link.peer(), served, arrived);
            deadline = arrived + timeoutOf(request);
            if (answer instanceof Message.Reply r && r.value() instanceof Later pending) {
                // An asynchronous method: this thread is done, the answer goes when its future completes,
                // or fails at the caller's deadline. The call counts as running (and holds its incoming
                // slot) until then. Should answerWhenDone throw, it took nothing over: the catch answers.
                long until = deadline;
                answerWhenDone(pending, callId, deadline, a -> answerLater(s, a, until, served, bytesIn, start, go));
                later = true;
                return;
            }
            answerServed(s, answer, deadline, served, bytesIn, start);
        } catch (RuntimeException | Error e) {
            // Not the link's failure: the request was cut from its frame on the event loop, and what goes
            // wrong while sending is answerServed's. This call's own handling failed (an interceptor's
            // completed that threw a VirtualMachineError, the bookkeeping of an asynchronous answer): that
            // call alone fails, and the link goes on with the others.
            long until = deadline == NO_WAIT ? defaultDeadline(arrived) : deadline;
            failedServing(s, callId, served, until, bytesIn, start, e);
        } finally {
            decided(served); // answered, or begun before (a call running on, an asynchronous one)
            if (!later) {
                ended(s, go);
            }
        }
    }

    /** The deadline of a request whose own is unknown (it could not be read): the caller's default one. */
    private long defaultDeadline(long arrived) {
        return arrived + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(runtime.config().defaultCallTimeoutMs());
    }

    /**
     * {@link #serveRemote}'s request failed outside its callee, with {@code e}: answered with a failure
     * unless its answer was sent already, and completed, {@code FAILED}, unless it was already. Called on
     * the thread that owns {@code served} (see {@link Served}); never throws.
     */
    private void failedServing(PeerSession s, long callId, Served served, long deadline, long bytesIn, long start,
                               Throwable e) {
        logError("request #" + callId + " from " + s.link + " failed outside the callee", e);
        if (served.completed) {
            return; // answered and completed, and what threw came after: an interceptor's completed
        }
        served.undelivered = true; // whatever the callee did, its caller gets the runtime's failure: FAILED
        try {
            answerServed(s, new Message.Failure(callId, RemoteFailure.describe(new CircuitException("worker "
                + runtime.id() + " failed serving the call: " + RemoteFailure.summary(e)))), deadline, served, bytesIn,
                start);
        } catch (RuntimeException | Error again) {
            logError("request #" + callId + " from " + s.link + " could not be answered with its failure", again);
        }
    }

    /**
     * The request {@code served} stands for has begun to run the callee's code, or was answered: a close
     * no longer waits for it ({@link #awaitDecided}). Once per request; on the thread that serves it.
     */
    private void decided(Served served) {
        if (served.decided) {
            return;
        }
        served.decided = true;
        if (undecided.decrementAndGet() == 0 && closing) {
            synchronized (undecided) {
                undecided.notifyAll();
            }
        }
    }

    /**
     * The first step of this runtime's close: a call from another runtime that has not begun to run by
     * now is refused, with a {@link WorkerDiedException} that says it was not run ({@link #closingRefusal}).
     * Calls running now run on; they end with the runtime.
     */
    void beginClose() {
        closing = true;
    }

    /**
     * After {@link #beginClose}, with no more requests handed up: waits until every request handed up
     * has begun to run or been answered (a move, a refusal, a lookup's answer), or until {@code deadline}
     * ({@link System#nanoTime()}), so that the goodbyes that follow do not cut those answers off. A call
     * waiting at the door of a service frozen for a hot swap is one that holds it up. Returns how many
     * are left.
     */
    int awaitDecided(long deadline) throws InterruptedException {
        synchronized (undecided) {
            int left;
            while ((left = undecided.get()) > 0) {
                long wait = deadline - System.nanoTime();
                if (wait <= 0) {
                    return left;
                }
                undecided.wait(Math.max(1, wait / 1_000_000));
            }
            return 0;
        }
    }

    /**
     * After {@link #beginClose}: the requests of {@code s}'s peer that wait for a slot past its incoming
     * limit were taken, never run, and will not be: each is refused as not run ({@link #closingRefusal}),
     * before the goodbye ({@link #awaitDecided} waits for the refusals), so that its caller knows.
     */
    void refuseParked(PeerSession s) {
        for (PeerSession.Parked p : s.takeParked()) {
            ByteBuf payload = p.payload();
            long callId = MessageCodec.callId(payload);
            long bytesIn = payload.readableBytes();
            payload.release();
            undecided.incrementAndGet();
            Served refused = new Served(false);
            refused.notRun = true;
            long start = System.nanoTime();
            try {
                virtualThreads.execute(() -> {
                    try {
                        answerServed(s, new Message.Failure(callId, RemoteFailure.describe(new WorkerDiedException(
                            runtime.id(), false, closingRefusal(runtime.id())))),
                            start + java.util.concurrent.TimeUnit.SECONDS.toNanos(1), refused, bytesIn, start);
                    } finally {
                        decided(refused);
                    }
                });
            } catch (RejectedExecutionException closed) {
                completedUnanswered(s, callId, UNREAD, bytesIn, start);
                decided(refused);
            }
        }
    }

    /** Whether {@link #beginClose} was called; for tests. */
    boolean isClosing() {
        return closing;
    }

    /** Requests handed up that have neither begun to run nor been answered; for tests. */
    int undecided() {
        return undecided.get();
    }

    /** The message of the refusal of a call that reached worker {@code worker} as it closed; see {@link #beginClose}. */
    static String closingRefusal(io.jcircuit.WorkerId worker) {
        return "worker " + worker + " is closing" + NOT_RUN;
    }

    /** The deadline of an answer sent from a thread that must not wait: it goes whether the link can take it or not. */
    private static final long NO_WAIT = Long.MIN_VALUE;

    /** How long the caller of {@code request} waits for its answer. */
    private static long timeoutOf(Message request) {
        return switch (request) {
            case Message.Call c -> c.timeoutNanos();
            case Message.Go g -> g.timeoutNanos();
            case Message.Lookup l -> l.timeoutNanos();
            case Message.Acquire a -> a.timeoutNanos();
            case Message.Reply r -> 0;
            case Message.Failure f -> 0;
            case Message.Release r -> 0;
        };
    }

    /**
     * The answer of an asynchronous method, on whatever thread completed its future (an event loop, the
     * deadline sweeper, a user's thread): sent here when the link can take it, else from a call thread
     * that waits for it ({@link #awaitRoom}), since none of those threads may block.
     */
    private void answerLater(PeerSession s, Message answer, long deadline, Served served, long bytesIn, long start,
                             boolean go) {
        boolean handedOver = false;
        try {
            try {
                if (s.link.isWritable() || !s.link.isOpen()) {
                    answerServed(s, answer, NO_WAIT, served, bytesIn, start); // could have become unwritable: one answer past
                    return;
                }
                virtualThreads.execute(() -> {
                    try {
                        answerServed(s, answer, deadline, served, bytesIn, start);
                    } catch (RuntimeException | Error e) {
                        logError("answer #" + answer.callId() + " to " + s.link + " failed", e);
                    } finally {
                        ended(s, go);
                    }
                });
                handedOver = true;
            } catch (RejectedExecutionException closing) {
                // the runtime is closing; this link goes down with it, and the answer is not sent
                completedUnanswered(s, answer.callId(), served.name, bytesIn, start);
            }
        } catch (RuntimeException | Error e) {
            // What answerServed lets through (a VirtualMachineError an interceptor's completed threw, after the
            // answer went) is this call's alone: not the link's, nor the caller's of this method, which may be
            // the deadline sweeper, a freeze, the thread completing the future, or answerWhenDone itself
            logError("answer #" + answer.callId() + " to " + s.link + " failed", e);
        } finally {
            if (!handedOver) {
                ended(s, go); // whatever happened: the call's slot and its count in running are given back
            }
        }
    }

    /** Sends the answer to a request from {@code s}'s peer, whose caller waits until {@code deadline}, and counts it. */
    private void answerServed(PeerSession s, Message answer, long deadline, Served served, long bytesIn, long start) {
        long bytesOut = 0;
        CallEvent.Outcome outcome = CallEvent.Outcome.FAILED; // unless the answer meant went
        try {
            bytesOut = send(s, deadline, answer, served);
            if (!served.undelivered && !served.notRun) {
                outcome = answer instanceof Message.Reply ? CallEvent.Outcome.OK : CallEvent.Outcome.THREW;
            }
        } catch (RuntimeException | Error e) {
            logError("answer #" + answer.callId() + " to " + s.link + " could not be sent", e);
            protocolError(s, "internal error answering request #" + answer.callId() + ": " + RemoteFailure.summary(e));
        }
        served.completed = true; // before: whatever it throws, it was called (failedServing)
        instrumentation.completed(CallInterceptor.Direction.IN, s.link.peer(), answer.callId(), served.name, bytesOut, bytesIn,
            start, outcome);
    }

    /**
     * The one {@code completed} of a request from {@code s}'s peer that gets no answer from here: the runtime
     * closed before one could be sent. {@code FAILED}, with nothing sent.
     */
    private void completedUnanswered(PeerSession s, long callId, String name, long bytesIn, long start) {
        instrumentation.completed(CallInterceptor.Direction.IN, s.link.peer(), callId, name, 0, bytesIn, start,
            CallEvent.Outcome.FAILED);
    }

    /**
     * Logs {@code what} with {@code e}'s stack; with {@code e}'s {@link RemoteFailure#summary} instead when
     * the logger cannot print it (it reads the message, which an exception class of the application's may
     * make throw).
     */
    private static void logError(String what, Throwable e) {
        try {
            LOG.error(what, e);
        } catch (RuntimeException | Error unprintable) {
            LOG.error("{}: {}", what, RemoteFailure.summary(e));
        }
    }

    private void ended(PeerSession s, boolean go) {
        if (go) {
            gosDone.incrementAndGet();
        }
        if (running.decrementAndGet() <= 1 && drainWaiters > 0) {
            synchronized (running) {
                running.notifyAll();
            }
        }
        PeerSession.Parked next = s.incomingEnded();
        if (next != null) {
            // a request that waited for this call's slot; on a call thread, not this one, which may be the
            // thread that completed an asynchronous method's future (an event loop, the deadline sweeper)
            start(s, next.payload(), next.arrived(), MessageCodec.isGo(MessageCodec.kind(next.payload())));
        }
    }

    /**
     * What the asynchronous method {@code method} returned: the stage whose outcome is the answer. Stands in for the
     * value of a {@link Message.Reply} between {@link #serve} and whoever sends the answer.
     */
    record Later(CompletionStage<?> stage, String method, Exit exit) {

        /**
         * The call's place in the export's {@link Gate}, entered by the call and left once its future
         * completes, or once its caller's deadline passes first (a future that never completes must not hold
         * every later swap's freeze), or when a freeze that waited its drain out abandons it: then the caller
         * is answered with {@link #onAbandon}'s failure at once.
         */
        static final class Exit implements Gate.Pending {
            private final Gate gate;
            private volatile Runnable onAbandon;
            private volatile boolean abandoned;

            Exit(Gate gate) {
                this.gate = gate;
            }

            void settle() {
                gate.settle(this);
            }

            @Override
            public void abandon() {
                abandoned = true;
                Runnable r = onAbandon;
                if (r != null) {
                    r.run();
                }
            }

            /** What answers the caller when the call is abandoned; run now if it was already. */
            void onAbandon(Runnable r) {
                onAbandon = r;
                if (abandoned) {
                    r.run();
                }
            }
        }

        /** The call is over here: its future completed, its deadline passed, or nothing waits for it. */
        void settled() {
            if (exit != null) {
                exit.settle();
            }
        }
    }

    /** The answer to request {@code callId} once its future completed with {@code value} or {@code failure}. */
    static Message answerOf(long callId, Object value, Throwable failure) {
        if (failure == null) {
            return new Message.Reply(callId, value);
        }
        // the wrappers a future adds (CompletionException) or a Future.get does (ExecutionException),
        // as a plain Future's failure is unwrapped in later()
        Throwable cause = (failure instanceof CompletionException || failure instanceof ExecutionException)
            && failure.getCause() != null ? failure.getCause() : failure;
        return new Message.Failure(callId, RemoteFailure.describe(cause));
    }

    /** Threads in {@link #awaitRunningAtMost}; while none, ending a call costs one volatile read more. */
    private volatile int drainWaiters;

    /**
     * Waits until at most {@code n} (0 or 1) requests from other runtimes are being served, or until
     * {@code deadline} ({@link System#nanoTime()}). Returns how many are running then.
     */
    int awaitRunningAtMost(int n, long deadline) throws InterruptedException {
        synchronized (running) {
            drainWaiters++;
            try {
                int now;
                while ((now = running.get()) > n) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return now;
                    }
                    running.wait(Math.max(1, left / 1_000_000));
                }
                return now;
            } finally {
                drainWaiters--;
            }
        }
    }

    int running() {
        return running.get();
    }

    long gosDone() {
        return gosDone.get();
    }

    /** Sends an answer whose caller waits until {@code deadline}; returns its payload size. */
    private long send(PeerSession s, long deadline, Message answer) {
        return send(s, deadline, answer, null);
    }

    /**
     * Sends an answer whose caller waits until {@code deadline}, once the link can take it; returns its
     * payload size. A reply that cannot go (too large, its caller's session has ended, or the link
     * could not take it by the deadline) is handed back to the object that {@code served} it when that
     * one {@link TakesBackUndelivered takes back} what it returned, with the call's arguments. When the
     * answer did not go as it was, not at all or as a failure in its place, {@link Served#undelivered}
     * says so ({@code served} null: nobody asks). Blocks: call threads only.
     */
    private long send(PeerSession s, long deadline, Message answer, Served served) {
        TakesBackUndelivered takesBack = served != null && served.impl instanceof TakesBackUndelivered t ? t : null;
        boolean room = awaitRoom(s, answer, deadline);
        boolean down = s.isDown();
        if (!room || (down && takesBack != null)) {
            notDelivered(served, takesBack, answer, true); // dropped, or nobody is there to read it
            return 0;
        }
        if (down && served != null) {
            served.undelivered = true; // sent into a link that has gone
        }
        ByteBuf frame = FrameCodec.begin(s.link.alloc(), FrameCodec.TYPE_DATA, 128);
        String cannot = null;
        boolean tooLargeForFrame = false;
        try {
            runtime.codec().encode(answer, frame, s.link.peer());
            String tooLarge = Invoker.aboveFrameLimit(frame, s.link.maxFrameBytes());
            if (tooLarge != null) {
                cannot = "its answer " + tooLarge.substring("it ".length());
                tooLargeForFrame = true;
                runtime.unsent(s.link.peer(), frame); // the caller gets a failure instead, without its references
            }
        } catch (CodecException e) {
            cannot = e.getMessage();
            runtime.unsent(s.link.peer(), e.holds());
        } catch (Throwable e) {
            // what the codec does not wrap (an Error of the application's writeObject, say): that answer's
            // failure alone, as a CodecException is, never the link's
            cannot = RemoteFailure.summary(e);
        }
        if (cannot != null) {
            frame.release();
            notDelivered(served, takesBack, answer, true); // a failure goes in its place
            // the caller's exception is of the kind its own arguments would get: too large, or unwritable
            String message = "worker " + runtime.id() + " could not send " + (answer instanceof Message.Failure f
                ? "the exception " + f.failure().className() + " thrown for the call" : "the result") + ": " + cannot;
            frame = FrameCodec.begin(s.link.alloc(), FrameCodec.TYPE_DATA, 256);
            try {
                runtime.codec().encode(new Message.Failure(answer.callId(), RemoteFailure.describe(tooLargeForFrame
                    ? new io.jcircuit.FrameTooLargeException(message) : new io.jcircuit.UnwritableValueException(message, null))),
                    frame);
            } catch (CodecException alsoFailed) {
                frame.release();
                throw alsoFailed;
            }
        }
        ByteBuf finished = FrameCodec.finish(frame);
        if (!awaitRoom(s, answer, deadline)) {
            // Again, now that the frame is made: other answers may have filled the link while it was
            // encoded. Dropped as above; the holds its references counted for the caller are undone.
            runtime.unsent(s.link.peer(), finished);
            finished.release();
            notDelivered(served, takesBack, answer, cannot == null);
            return 0;
        }
        long bytes = finished.readableBytes() - FrameCodec.HEADER_LENGTH; // the payload, as the caller counts it
        // busy: the event loop writes the answer, with the others of its burst, while this thread goes on
        s.link.send(finished, answersToBusyPeersViaLoop ? s.pipelining(System.nanoTime()) : s.incomingInFlight() > 1);
        if (takesBack != null && cannot == null && answer instanceof Message.Reply r) {
            takesBack.answered(r.value(), served.args);
        }
        return bytes;
    }

    /**
     * An answer did not go as it was: {@link Served#undelivered} says so, and with {@code takeBack} a reply is
     * handed back to the object that returned it, when that one {@link TakesBackUndelivered takes back}.
     */
    private static void notDelivered(Served served, TakesBackUndelivered takesBack, Message answer, boolean takeBack) {
        if (served != null) {
            served.undelivered = true;
        }
        if (takeBack && takesBack != null && answer instanceof Message.Reply r) {
            takesBack.takeBack(r.value(), served.args); // takesBack is served's object
        }
    }

    /**
     * Waits until the link to the caller can take an answer ({@link Link#isWritable}): answers are held to
     * the session's replay limit as requests are, or a peer that reads answers and never acknowledges them
     * would make this runtime keep every one. The call keeps its incoming slot meanwhile, so past
     * {@code maxIncomingCallsPerLink} such calls that peer's further requests wait their turn. Returns false when
     * the answer is not to be sent: the caller's deadline passed first (it has given up on the answer),
     * or the thread was interrupted (the runtime is closing). An ended session returns true at once;
     * the answer is then dropped as before. The answer is encoded only after the wait, so that a dropped
     * one rarely counts references as held by the caller, and checked again once encoded, since other
     * call threads' answers may have filled the link meanwhile. With {@link #NO_WAIT} it returns true at once.
     */
    private boolean awaitRoom(PeerSession s, Message answer, long deadline) {
        Link link = s.link;
        if (deadline == NO_WAIT || link.isWritable() || !link.isOpen()) {
            return true;
        }
        boolean wasInterrupted = Thread.interrupted(); // left set by the callee: not a reason to drop its answer
        try {
            if (link.awaitWritable(deadline) || !link.isOpen()) {
                return true;
            }
            LOG.debug("answer #{} to {} dropped: the link could not take it by its caller's deadline ({})", answer.callId(),
                link, link.isConnected() ? "the peer does not acknowledge what it is sent" : "no connection");
            return false;
        } catch (InterruptedException closing) {
            wasInterrupted = true;
            LOG.debug("answer #{} to {} dropped: interrupted while the link was backed up", answer.callId(), link);
            return false;
        } finally {
            if (wasInterrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs a decoded request in this runtime's scope and the caller's deadline; returns the answer. */
    Message serve(Message request) {
        return serve(request, null);
    }

    /** {@link #serve(Message)} for a request from {@code from} (null: from this runtime). */
    Message serve(Message request, io.jcircuit.WorkerId from) {
        return serve(request, from, null, System.nanoTime());
    }

    /**
     * What serving one remote request found out, for the metrics: the method's name. Plain fields: one
     * thread at a time has it. The call thread that serves the request, until it hands an asynchronous
     * method's answer over ({@link #answerWhenDone} returns; then it reads only {@link #decided}, which
     * nobody else touches); after that, the one thread that sends that answer: the first of the future,
     * the deadline and an abandon to take it ({@link LaterAnswer#take}, a compare-and-set that already
     * was there), or this call thread itself for a future that was done, and from there a call thread it
     * is handed to ({@link #answerLater}; starting a thread orders what came before). When
     * {@link #answerWhenDone} throws, it took nothing over and nothing will: the call thread still has it.
     */
    private static final class Served {
        /** Whether it has begun to run the callee's code, or was answered; see {@link #decided}. */
        boolean decided;
        /**
         * Whether it was answered (or its answer dropped) and its {@code completed} called, so that a
         * failure after that ({@link #failedServing}) neither answers nor completes it again.
         */
        boolean completed;
        String name = UNREAD;
        /** The object that served the call, when it was one of this runtime's exports. */
        Object impl;
        /** The arguments of that call. */
        Object[] args;
        /** Its answer did not go as it was: dropped, or replaced by a failure that says why ({@link #send}). */
        boolean undelivered;
        /** It was refused unrun, or could not be read: its failure is the runtime's, {@code FAILED}. */
        boolean notRun;

        /** @param go a {@code go}, which counts as begun when it arrives */
        Served(boolean go) {
            decided = go;
        }
    }

    /**
     * An exported object that takes back a result its call could not deliver: one too large for a
     * frame, or whose caller's session had ended. A channel's owner puts the items back.
     */
    interface TakesBackUndelivered {
        /** Takes back {@code result}, the value a call with arguments {@code args} returned. */
        void takeBack(Object result, Object[] args);

        /** {@code result}, the value a call with arguments {@code args} returned, went to its caller's link. */
        void answered(Object result, Object[] args);
    }

    private Message serve(Message request, io.jcircuit.WorkerId from, Served served, long arrived) {
        long callId = request.callId();
        try {
            Object result = switch (request) {
                case Message.Call c -> withinScope(arrived, c.timeoutNanos(), () -> invoke(c, from, served));
                case Message.Go g -> {
                    if (served == null) {
                        yield withinScope(arrived, g.timeoutNanos(), () -> g.fn().call());
                    }
                    served.name = "go";
                    yield withinScope(arrived, g.timeoutNanos(),
                        () -> instrumentation.incoming(from, callId, "go", g.context(), () -> g.fn().call()));
                }
                case Message.Lookup l -> {
                    Object service = runtime.service(l.service());
                    if (served != null) {
                        served.name = Invoker.dialName(l.service(), service != null);
                    }
                    yield service;
                }
                case Message.Reply r -> throw new CircuitException("protocol error: a Reply arrived as a request");
                case Message.Failure f -> throw new CircuitException("protocol error: a Failure arrived as a request");
                case Message.Acquire a -> {
                    if (served != null) {
                        served.name = "acquire";
                    }
                    if (from == null || !runtime.exports().acquire(a.handle(), from)) {
                        throw new CircuitException("worker " + runtime.id() + " exports no object #" + a.handle()
                            + " any more");
                    }
                    yield null;
                }
                case Message.Release r -> throw new CircuitException("protocol error: a Release arrived as a request");
            };
            return new Message.Reply(callId, result);
        } catch (Throwable t) {
            return new Message.Failure(callId, RemoteFailure.describe(t));
        }
    }

    /**
     * Like {@link #serve}, on a new virtual thread, as {@code go} promises: a {@code go} on this
     * runtime itself. Returns its answer to come, for the caller to wait for until its deadline. The
     * thread is one of this runtime's call threads, interrupted when it closes as one that serves a go
     * from another runtime is; {@link #close} also fails the answer with {@link WorkerDiedException},
     * so that its caller stops waiting whether or not the function stops. A caller that stops waiting
     * cancels the answer.
     */
    CompletableFuture<Message> serveOnNewThread(Message request) {
        long arrived = System.nanoTime();
        CompletableFuture<Message> answer = new CompletableFuture<>();
        localGos.add(answer);
        answer.whenComplete((m, t) -> localGos.remove(answer));
        try {
            virtualThreads.execute(() -> answer.complete(serve(request, null, null, arrived)));
        } catch (RejectedExecutionException closing) {
            // close shut the threads down before it failed the answers: this one it may not have seen
            answer.completeExceptionally(new WorkerDiedException(runtime.id(), false, "worker " + runtime.id()
                + " closed before a go on it could start"));
        }
        return answer;
    }

    /** Runs {@code op} in this runtime's scope, with the caller's deadline: {@code timeoutNanos} after {@code arrived}. */
    private Object withinScope(long arrived, long timeoutNanos, Deadline.Op<Object, Throwable> op) throws Throwable {
        long deadline = arrived + timeoutNanos;
        if (timeoutNanos <= 0 || deadline - System.nanoTime() <= 0) {
            // the caller has given up already: running it would be work nobody waits for
            throw new io.jcircuit.DeadlineExceededException(runtime.id(), timeoutNanos <= 0
                ? "the caller's deadline had passed when the call arrived at worker " + runtime.id() + NOT_RUN
                : "the caller's deadline passed before the call could start: worker " + runtime.id() + " (pid "
                    + ProcessHandle.current().pid() + ") was stalled or stopped while the call waited to be read, or the call"
                    + " waited for one of the " + runtime.config().maxIncomingCallsPerLink() + " calls from its caller's"
                    + " runtime that may run there at once (maxIncomingCallsPerLink) to end" + NOT_RUN);
        }
        return ScopedValue.where(CircuitScope.CURRENT, runtime)
            .call(() -> Deadline.until(deadline, op));
    }

    private Object invoke(Message.Call c, io.jcircuit.WorkerId from, Served served) throws Throwable {
        Export e = runtime.exports().get(c.handle());
        if (e == null) {
            throw new CircuitException("worker " + runtime.id() + " exports no object #" + c.handle());
        }
        Export.Target t = e.methods().get(c.method());
        if (t == null) {
            throw new CircuitException("object #" + c.handle() + " on worker " + runtime.id() + " (" + e.iface().getName()
                + ") has no method " + c.method());
        }
        MethodHandle m = t.handle();
        Gate gate = e.gate();
        Object movedTo = gate.enter(Deadline.currentNanoTime().orElse(System.nanoTime() + 30_000_000_000L));
        if (movedTo != null) {
            return new io.jcircuit.codec.Moved(movedTo); // not run here: the caller resends it to the replacement
        }
        if (served != null) {
            if (closing) {
                served.name = t.display();
                served.notRun = true;
                gate.exit();
                throw new WorkerDiedException(runtime.id(), false, closingRefusal(runtime.id()));
            }
            decided(served);
            served.impl = e.impl();
            served.args = c.args();
        }
        Object result = null;
        boolean pending = false;
        try {
            if (served == null) {
                result = m.invokeExact(e.impl(), c.args());
            } else {
                served.name = t.display();
                result = instrumentation.incoming(from, c.callId(), t.display(), c.context(),
                    () -> m.invokeExact(e.impl(), c.args()));
            }
            // An asynchronous method's call runs on until its future completes: a hot swap's freeze waits for
            // it too, or the snapshot would miss what it still does to the object (and its caller was told so)
            pending = t.async() && result instanceof CompletionStage<?> stage && !isCompletedFuture(stage);
        } finally {
            if (!pending) {
                gate.exit();
            }
        }
        if (!t.async()) {
            return result;
        }
        Later.Exit exit = null;
        if (pending) {
            exit = new Later.Exit(gate);
            gate.pend(exit); // it entered above, and leaves once its future completes
        }
        return later(result, t.display(), exit);
    }

    /** A {@link CompletableFuture} of the JDK's own class that is done; a subclass's methods may throw. */
    private static boolean isCompletedFuture(CompletionStage<?> stage) {
        return stage.getClass() == CompletableFuture.class && ((CompletableFuture<?>) stage).isDone();
    }

    /**
     * What an asynchronous method's result stands for: a stage to wait for without a thread, or for a
     * plain {@link Future}, its value (this call thread waits for it, until the caller's deadline).
     */
    private Object later(Object result, String method, Later.Exit exit) throws Throwable {
        if (result instanceof CompletionStage<?> stage) {
            return new Later(stage, method, exit);
        }
        if (result instanceof Future<?> f) {
            long deadline = Deadline.currentNanoTime().orElse(System.nanoTime() + 30_000_000_000L);
            try {
                return f.get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (ExecutionException failed) {
                throw failed.getCause() == null ? failed : failed.getCause();
            } catch (java.util.concurrent.TimeoutException late) {
                throw new io.jcircuit.DeadlineExceededException(runtime.id(), method
                    + " returned a Future that was not done by the caller's deadline");
            }
        }
        throw new NullPointerException(method + " returned null instead of a future");
    }

    /**
     * Hands {@code answer} the answer to call {@code callId} once {@code pending}'s stage completes, or a
     * {@link io.jcircuit.DeadlineExceededException} at {@code deadline} if it has not by then: the
     * caller has given up, and a future that never completes must not hold the call's slot for ever.
     * Exactly one of the two is handed over. Returns once it is, or will be by whoever comes first (the
     * future, the deadline, a freeze that abandons the call). Throws only when nothing was handed over
     * and nothing will be (what keeps the waiting, a stage of the JDK's that could not take its dependent,
     * failed): then {@code pending} is settled, and the caller answers the call itself. {@code answer}
     * must not throw: it may run on this thread, before this returns.
     */
    void answerWhenDone(Later pending, long callId, long deadline, java.util.function.Consumer<Message> answer) {
        answerWhenDone(pending, callId, deadline, answer, () -> answer.accept(new Message.Failure(callId,
            RemoteFailure.describe(new io.jcircuit.DeadlineExceededException(runtime.id(), pending.method()
                + " returned a future that was not done by the caller's deadline")))));
    }

    /** Like {@link #answerWhenDone(Later, long, long, java.util.function.Consumer)}, with {@code onDeadline} run at the deadline. */
    void answerWhenDone(Later pending, long callId, long deadline, java.util.function.Consumer<Message> answer,
                        Runnable onDeadline) {
        CompletionStage<?> stage = pending.stage();
        if (isCompletedFuture(stage)) {
            // the common case (a method that returns a completed future): nothing to wait for or expire.
            // The JDK's own class only: a subclass's methods may throw (completedStage's refuse isDone).
            // Its whenComplete runs the action here and now, and keeps what the action throws in the stage
            // it returns: it throws only before it runs the action, having handed nothing over
            pending.settled();
            stage.whenComplete((v, t) -> answerWith(callId, v, t, answer));
            return;
        }
        LaterAnswer waiting = null;
        try {
            LaterAnswer w = waiting = new LaterAnswer(deadline, () -> {
                try {
                    pending.settled();
                } finally {
                    onDeadline.run();
                }
            });
            if (pending.exit() != null) {
                pending.exit().onAbandon(() -> {
                    if (w.take()) {
                        runtime.callDeadlines().remove(w);
                        answer.accept(new Message.Failure(callId, RemoteFailure.describe(new CircuitException(pending.method()
                            + " on worker " + runtime.id() + " was still waiting for its future when a hot swap's freeze of the"
                            + " service had waited its drain out, and the swap went on without it: whether what it does is in"
                            + " the state handed over is unknown; call again (the replacement serves it)"))));
                    }
                });
            }
            try {
                stage.whenComplete((v, t) -> {
                    try {
                        pending.settled(); // before the answer: a caller told it is done finds the object done with it
                    } finally {
                        if (w.take()) {
                            runtime.callDeadlines().remove(w);
                            answerWith(callId, v, t, answer);
                        }
                    }
                });
            } catch (Throwable refused) {
                // a stage of the application's own that takes no dependent: the call fails with what it threw
                try {
                    pending.settled();
                } finally {
                    if (w.take()) {
                        answerWith(callId, null, refused, answer);
                    }
                }
                return;
            }
            if (!w.taken()) {
                runtime.callDeadlines().add(w); // expires at once when the deadline has passed
            }
        } catch (RuntimeException | Error e) {
            if (waiting != null && !waiting.take()) {
                // taken: the answer went, or goes from whoever took it; what failed here is only logged
                logError("call #" + callId + " failed while it waited for the future of " + pending.method(), e);
                return;
            }
            if (waiting != null) {
                runtime.callDeadlines().remove(waiting); // perhaps added before what threw
            }
            try {
                pending.settled();
            } catch (RuntimeException | Error alsoFailed) {
                e.addSuppressed(alsoFailed);
            }
            throw e;
        }
    }

    /**
     * Hands {@code answer} the answer to call {@code callId} whose future completed with {@code value}
     * or {@code failure}. Whatever building it throws, an answer is handed over: the one who sends it
     * also gives the call's slot back, and a dependent of the application's future that throws would be
     * swallowed by that future, leaving the caller waiting until its deadline and the slot taken for ever.
     */
    private void answerWith(long callId, Object value, Throwable failure, java.util.function.Consumer<Message> answer) {
        Message m;
        try {
            m = answerOf(callId, value, failure);
        } catch (Throwable t) {
            m = new Message.Failure(callId, RemoteFailure.describe(new CircuitException("worker " + runtime.id()
                + " could not describe the outcome of the call's future: " + RemoteFailure.summary(t))));
        }
        answer.accept(m);
    }

    /** A callee's wait for its method's future; the deadline sweeper expires it. */
    private static final class LaterAnswer extends CallDeadlines.Expiring {
        private final long deadline;
        private final Runnable onDeadline;
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

        LaterAnswer(long deadline, Runnable onDeadline) {
            this.deadline = deadline;
            this.onDeadline = onDeadline;
        }

        /** True for the first of the future and the deadline. */
        boolean take() {
            return done.compareAndSet(false, true);
        }

        boolean taken() {
            return done.get();
        }

        @Override
        long deadline() {
            return deadline;
        }

        @Override
        void expire() {
            if (take()) {
                onDeadline.run();
            }
        }
    }

    /** Closes one link over bad input; the runtime and its other links carry on. */
    void protocolError(PeerSession s, String reason) {
        LOG.warn("{} closed: {}", s.link, reason);
        s.link.close(reason);
    }

    @Override
    public void close() {
        virtualThreads.shutdownNow(); // first: a local go that starts later is refused (serveOnNewThread)
        for (CompletableFuture<Message> answer : localGos) {
            answer.completeExceptionally(new WorkerDiedException(runtime.id(), true, "worker " + runtime.id()
                + " closed while a go on it ran"));
        }
    }
}
