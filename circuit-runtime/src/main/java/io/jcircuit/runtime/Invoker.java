package io.jcircuit.runtime;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;
import io.jcircuit.CircuitException;
import io.jcircuit.Deadline;
import io.jcircuit.DeadlineExceededException;
import io.jcircuit.Fn;
import io.jcircuit.NoSuchServiceException;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.CodecException;
import io.jcircuit.codec.Message;
import io.jcircuit.codec.RefDescriptor;
import io.jcircuit.link.FrameCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.lang.reflect.Method;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Outgoing requests: calls on references, {@code go} and service lookups. Each runs on the caller's
 * thread, which encodes the request, sends it, parks until the answer or the deadline, and decodes
 * the answer itself, so the event loop only routes bytes.
 *
 * <p>A request to this runtime itself takes the same encode and decode steps without the network,
 * so arguments and results are copies there too.
 */
final class Invoker {

    private final CircuitRuntime runtime;
    /**
     * Shared by the JVM's runtimes, so that an interceptor registered with several of them tells their
     * outgoing calls apart by peer and id ({@link io.jcircuit.CallInterceptor.CallInfo#callId()}).
     */
    private static final AtomicLong NEXT_CALL_ID = new AtomicLong(1);
    private final ConcurrentHashMap<Method, Names> names = new ConcurrentHashMap<>();
    private final Instrumentation instrumentation;

    Invoker(CircuitRuntime runtime, Instrumentation instrumentation) {
        this.runtime = runtime;
        this.instrumentation = instrumentation;
    }

    /** How a method travels ({@link Export#signature}) and how metrics and interceptors name it. */
    record Names(String signature, String display, boolean async) {
        static Names of(Method m) {
            return new Names(Export.signature(m), Export.displayName(m.getDeclaringClass(), m), Export.isAsync(m));
        }
    }

    /** The most times one call follows a hot-swapped object to its replacement. */
    private static final int MAX_MOVES = 8;

    Object call(RefHandler handler, Method method, Object[] args) {
        runtime.ensureOpen();
        Names n = names.get(method);
        if (n == null) {
            n = names.computeIfAbsent(method, Names::of);
        }
        if (n.async()) {
            CallFuture<Object> f = new CallFuture<>(runtime.completions());
            callAsync(new AsyncRequest(handler, method, args, n, 0, deadline(), f, false));
            return f;
        }
        String signature = n.signature();
        boolean movedBack = false;
        for (int moves = 0; ; moves++) {
            RefDescriptor target = handler.current();
            Object r;
            try {
                handler.checkHeld();
                r = request(target.home(), target.address(), new CallSite(method), n.display(),
                    (id, timeout, context) -> new Message.Call(id, target.handle(), signature, args, timeout, context));
            } catch (WorkerDiedException died) {
                // The call never ran there. If that worker was hot-swapped before it went, the store says
                // where its object is now: follow it, as a live worker's Moved answer would have said.
                Optional<Object> moved = died.outcomeUnknown() || moves == MAX_MOVES ? Optional.empty()
                    : runtime.movedTo(target);
                if (moved.isEmpty()) {
                    // A replacement this reference had followed died: a swap rolled back after its forward
                    // serves the object where it was again. Try there, once per call.
                    if (!died.outcomeUnknown() && !movedBack && moves < MAX_MOVES && handler.moveBack(target)) {
                        movedBack = true;
                        continue;
                    }
                    throw died;
                }
                r = new io.jcircuit.codec.Moved(moved.get());
            }
            if (!(r instanceof io.jcircuit.codec.Moved moved)) {
                return r;
            }
            // The call did not run there: the object moved in a hot swap. Follow it, and stay with it.
            if (moves == MAX_MOVES || !runtime.isReference(moved.replacement())) {
                throw new CircuitException("call of " + new CallSite(method) + " was moved " + (moves + 1)
                    + " times without reaching its object (last: " + moved.replacement() + ")");
            }
            handler.moveTo(moved.replacement(), CircuitRuntime.descriptorOfReference(moved.replacement()));
        }
    }

    /**
     * An asynchronous call as the application made it: enough to send it again where a hot swap moved
     * its object, until its deadline.
     */
    record AsyncRequest(RefHandler handler, Method method, Object[] args, Names names, int moves, long deadline,
                        CallFuture<Object> future, boolean movedBack) {
        AsyncRequest moved() {
            return new AsyncRequest(handler, method, args, names, moves + 1, deadline, future, movedBack);
        }

        AsyncRequest backWhereItWas() {
            return new AsyncRequest(handler, method, args, names, moves + 1, deadline, future, true);
        }

        CallSite what() {
            return new CallSite(method);
        }
    }

    /**
     * Sends an asynchronous call and returns; its future completes on the runtime's completer thread
     * ({@link Completions}) when the answer comes, the link fails or the deadline passes. Only waiting
     * for a free outgoing slot, a writable link or a first connection to the peer holds the caller up
     * (until the deadline at most): that is the back-pressure a flood of calls meets.
     */
    private void callAsync(AsyncRequest r) {
        RefDescriptor target = r.handler().current();
        CallSite what = r.what();
        long deadline = r.deadline();
        long id = NEXT_CALL_ID.getAndIncrement();
        try {
            if (target.home().equals(runtime.id())) {
                Message request = new Message.Call(id, target.handle(), r.names().signature(), r.args(),
                    deadline - System.nanoTime(), java.util.Map.of());
                Thread.ofVirtual().name("circuit-async-self").start(() -> callSelfAsync(request, r));
                return;
            }
            r.handler().checkHeld();
            sendAsync(r, target, id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // the caller's own doing, not the callee's end (as for a synchronous call)
            r.future().completeExceptionally(new CircuitException("interrupted while waiting to send " + what
                + "; it was not sent", e));
        } catch (WorkerDiedException died) {
            afterDeath(died, target, r);
        } catch (RuntimeException e) {
            r.future().completeExceptionally(e);
        }
    }

    /**
     * Sends an asynchronous call to another runtime, from its {@code outgoing} on. It ends in one
     * {@code completed}: {@link #finish}'s once the call is on the link's books, else here, FAILED, when
     * it fails before (the peer has died, or the deadline passed while it waited for a slot), before the
     * failure is thrown on to complete the future.
     */
    private void sendAsync(AsyncRequest r, RefDescriptor target, long id) throws InterruptedException {
        CallSite what = r.what();
        long deadline = r.deadline();
        long start = System.nanoTime();
        java.util.Map<String, String> context = instrumentation.outgoing(target.home(), id, r.names().display());
        PeerSession s;
        try {
            s = runtime.peers().session(target.home(), target.address(), deadline);
            if (!s.outgoingStarted(deadline)) {
                throw notSent(s.link.peer(), what, "waiting for one of the link's outgoing call slots");
            }
        } catch (Throwable t) {
            instrumentation.completed(CallInterceptor.Direction.OUT, target.home(), id, r.names().display(), 0, 0, start,
                CallEvent.Outcome.FAILED);
            throw t;
        }
        AsyncCall c = new AsyncCall(this, runtime.completions(), runtime.callDeadlines(), s, id, target, r, start);
        s.pending.put(id, c);
        try {
            checkUp(s);
            checkDeadline(s, deadline, what);
            ByteBuf frame = encodeFrame(s, new Message.Call(id, target.handle(), r.names().signature(), r.args(),
                deadline - System.nanoTime(), context), what);
            c.bytesOut = frame.readableBytes() - FrameCodec.HEADER_LENGTH;
            send(s, frame, what, deadline);
            // Booked with the deadlines only once sent: while it waited to go (a link redialing or backed
            // up), its deadline is send's, whose failure says it was not sent. Booked earlier, the deadline
            // thread's expiry ("waiting for the answer", outcome unknown) won that race.
            runtime.callDeadlines().add(c);
            if (c.settled()) {
                runtime.callDeadlines().remove(c); // its answer, or its link's end, came before it was booked
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.fail(new CircuitException("interrupted while waiting to send " + what + "; it was not sent", e));
        } catch (RuntimeException e) {
            c.fail(e); // unless the link's failure or the deadline came first; finish cleans up either way
        }
    }

    /**
     * On the completer thread: an asynchronous call's outcome came (and the call has left the link's
     * books); completes its future.
     */
    void finish(AsyncCall c, Object outcome) {
        AsyncRequest r = c.request;
        PeerSession s = c.session;
        long bytesIn = 0;
        Object value = null;
        Throwable failure = null;
        CallEvent.Outcome event = CallEvent.Outcome.FAILED;
        if (outcome instanceof ByteBuf answer) {
            bytesIn = answer.readableBytes();
            try {
                value = unwrap(s, answer, r.what());
                event = CallEvent.Outcome.OK;
            } catch (Throwable t) {
                failure = t;
                event = CallEvent.Outcome.THREW;
            }
        } else if (outcome instanceof RuntimeException e) {
            failure = e;
        } else {
            failure = timeout(s.link.peer(), r.what(), "waiting for the answer");
        }
        try {
            instrumentation.completed(CallInterceptor.Direction.OUT, c.target.home(), c.id, r.names().display(), c.bytesOut,
                bytesIn, c.start, event);
        } finally {
            // even past an error the interceptors let through (a VirtualMachineError): nobody else would
            settle(r, value, failure, c.target);
        }
    }

    /** Completes an asynchronous call's future with what its answer said, or follows its object after a death. */
    private void settle(AsyncRequest r, Object value, Throwable failure, RefDescriptor target) {
        if (failure instanceof WorkerDiedException died) {
            afterDeath(died, target, r);
        } else if (failure != null) {
            r.future().completeExceptionally(failure);
        } else {
            deliver(value, r);
        }
    }

    /** Completes the call's future with an answer's value, or sends the call again where a hot swap moved it. */
    private void deliver(Object value, AsyncRequest r) {
        if (!(value instanceof io.jcircuit.codec.Moved moved)) {
            r.future().complete(value);
            return;
        }
        if (r.moves() == MAX_MOVES || !runtime.isReference(moved.replacement())) {
            r.future().completeExceptionally(new CircuitException("call of " + r.what() + " was moved "
                + (r.moves() + 1) + " times without reaching its object (last: " + moved.replacement() + ")"));
            return;
        }
        r.handler().moveTo(moved.replacement(), CircuitRuntime.descriptorOfReference(moved.replacement()));
        // off the completer thread: sending may wait for a connection or an outgoing slot
        Thread.ofVirtual().name("circuit-async-moved").start(() -> callAsync(r.moved()));
    }

    /**
     * The call never ran where it went. If that worker was hot-swapped before it went, the store says
     * where its object is now: follow it (looked up on a thread of its own, as it reads the store).
     */
    private void afterDeath(WorkerDiedException died, RefDescriptor target, AsyncRequest r) {
        if (died.outcomeUnknown() || r.moves() == MAX_MOVES) {
            r.future().completeExceptionally(died);
            return;
        }
        Thread.ofVirtual().name("circuit-async-moved").start(() -> {
            Optional<Object> moved;
            try {
                moved = runtime.movedTo(target);
            } catch (RuntimeException e) {
                died.addSuppressed(e);
                moved = Optional.empty();
            }
            if (moved.isEmpty()) {
                if (!r.movedBack() && r.handler().moveBack(target)) {
                    callAsync(r.backWhereItWas()); // as the synchronous call does
                } else {
                    r.future().completeExceptionally(died);
                }
            } else {
                deliver(new io.jcircuit.codec.Moved(moved.get()), r);
            }
        });
    }

    /** An asynchronous call on an object of this runtime, on a virtual thread: served here, copied both ways. */
    private void callSelfAsync(Message request, AsyncRequest r) {
        Message answer;
        try {
            answer = runtime.dispatcher().serve(copyRequest(request, r.what()));
        } catch (RuntimeException e) {
            r.future().completeExceptionally(e);
            return;
        }
        if (answer instanceof Message.Reply reply && reply.value() instanceof Dispatcher.Later later) {
            try {
                runtime.dispatcher().answerWhenDone(later, request.callId(), r.deadline(),
                    a -> runtime.completions().submit(() -> settleSelf(a, r)),
                    () -> runtime.completions().submit(() -> r.future().completeExceptionally(
                        timeout(runtime.id(), r.what(), "waiting for the answer"))));
            } catch (RuntimeException | Error e) {
                // it took nothing over, and nothing will answer the call: the future fails with what threw
                r.future().completeExceptionally(e);
            }
        } else {
            runtime.completions().submit(() -> settleSelf(answer, r));
        }
    }

    private void settleSelf(Message answer, AsyncRequest r) {
        Object value;
        try {
            value = unwrapLocal(copy(answer, "answer"), r.what(), runtime.id());
        } catch (Throwable t) {
            r.future().completeExceptionally(t);
            return;
        }
        deliver(value, r);
    }

    /** Names a call in error messages; the text is only built when an error needs it. */
    record CallSite(Method method) {
        @Override
        public String toString() {
            return method.getDeclaringClass().getSimpleName() + "." + method.getName();
        }
    }

    <R> R go(RemoteWorker worker, Fn<R> fn) {
        java.util.Objects.requireNonNull(fn, "fn");
        @SuppressWarnings("unchecked")
        R r = (R) request(worker.id(), worker.address(), "go", "go",
            (id, timeout, context) -> new Message.Go(id, fn, timeout, context));
        return r;
    }

    <T> Optional<T> dial(RemoteWorker worker, String service, Class<T> iface, boolean required) {
        java.util.Objects.requireNonNull(service, "service");
        java.util.Objects.requireNonNull(iface, "iface");
        String what = dialName(service, true);
        Object ref = request(worker.id(), worker.address(), what, what,
            (id, timeout, context) -> new Message.Lookup(id, service, timeout));
        if (ref == null) {
            if (required) {
                throw new NoSuchServiceException(worker.id(), service);
            }
            return Optional.empty();
        }
        if (!iface.isInstance(ref)) {
            throw new ClassCastException("service '" + service + "' on worker " + worker.id()
                + " is " + ref + ", which does not implement " + iface.getName());
        }
        if (java.lang.reflect.Proxy.isProxyClass(ref.getClass())
            && java.lang.reflect.Proxy.getInvocationHandler(ref) instanceof RefHandler h) {
            h.named(); // the service's name keeps it at home: it outlives the session it was looked up in
        }
        return Optional.of(iface.cast(ref));
    }

    /** Tells the home of {@code d} that this runtime holds a reference to it (distributed GC). */
    void acquire(io.jcircuit.codec.RefDescriptor d) {
        request(d.home(), d.address(), "acquire of #" + d.handle(), "acquire",
            (id, timeout, context) -> new Message.Acquire(id, d.handle(), timeout));
    }

    @FunctionalInterface
    private interface RequestMaker {
        Message make(long callId, long timeoutNanos, java.util.Map<String, String> context);
    }

    private Object request(WorkerId home, io.jcircuit.Address address, Object what, String name, RequestMaker maker) {
        runtime.ensureOpen();
        long deadline = deadline();
        long id = NEXT_CALL_ID.getAndIncrement();
        if (home.equals(runtime.id())) {
            return requestSelf(maker.make(id, deadline - System.nanoTime(), java.util.Map.of()), deadline, what);
        }
        long start = System.nanoTime();
        java.util.Map<String, String> context = instrumentation.outgoing(home, id, name);
        Outcome o = new Outcome();
        String counted = name;
        try {
            // in here: a call to a peer that has died, or that cannot be reached by the deadline, is a FAILED one
            PeerSession s = runtime.peers().session(home, address, deadline);
            Object result = requestRemote(s, id, what, timeout -> maker.make(id, timeout, context), deadline, o);
            o.outcome = CallEvent.Outcome.OK;
            if (result == null && name.startsWith(DIAL)) {
                counted = dialName(null, false); // a lookup that found nothing, in the metrics only
            }
            return result;
        } finally {
            instrumentation.completed(CallInterceptor.Direction.OUT, home, id, name, counted, o.bytesOut, o.bytesIn, start,
                o.outcome); // the interceptors see the name outgoing saw
        }
    }

    /** How the call metrics name lookups: what a {@code dial} names is counted only when it was found. */
    private static final String DIAL = "dial ";

    /**
     * The metrics' name of a lookup of {@code service}: by the service's name when there is one, all
     * lookups of names that are not there under one name (each name counted costs a histogram, and any
     * peer could dial names without end).
     */
    static String dialName(String service, boolean found) {
        return found ? DIAL + service : DIAL + "(no such service)";
    }

    /** What one outgoing request measured; FAILED until shown otherwise. */
    private static final class Outcome {
        long bytesOut;
        long bytesIn;
        CallEvent.Outcome outcome = CallEvent.Outcome.FAILED;
    }

    private Object requestRemote(PeerSession s, long id, Object what, LongFunction<Message> maker, long deadline,
                                 Outcome o) {
        try {
            if (!s.outgoingStarted(deadline)) {
                throw notSent(s.link.peer(), what, "waiting for one of the link's outgoing call slots");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // the caller's own doing, not the callee's end: the interrupt stays set
            throw new CircuitException("interrupted while waiting to send " + what + "; it was not sent", e);
        }
        PendingCall p = new PendingCall(deadline, runtime.waiters());
        s.pending.put(id, p);
        ByteBuf answer;
        try {
            checkUp(s);
            checkDeadline(s, deadline, what);
            ByteBuf frame = encodeFrame(s, maker.apply(deadline - System.nanoTime()), what);
            o.bytesOut = frame.readableBytes() - FrameCodec.HEADER_LENGTH; // the payload, as the callee counts it
            send(s, frame, what, deadline);
            answer = p.await(runtime.callDeadlines());
            if (answer == null) {
                throw timeout(s.link.peer(), what, "waiting for the answer");
            }
            o.bytesIn = answer.readableBytes();
            o.outcome = CallEvent.Outcome.THREW; // unless unwrap returns a value
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CircuitException("interrupted while waiting for " + what + " on worker " + s.link.peer()
                + "; it may still run there", e);
        } finally {
            s.pending.remove(id);
            p.settle();
            s.outgoingEnded();
        }
        // outside the catch above: an InterruptedException the callee threw comes back as itself, and
        // is not the caller being interrupted (it set the caller's interrupt flag, and failed its next call)
        return unwrap(s, answer, what);
    }

    /** A call whose deadline passed before it left (waiting for a slot, say) is not sent: nobody would wait for it. */
    private static void checkDeadline(PeerSession s, long deadline, Object what) {
        if (deadline - System.nanoTime() <= 0) {
            throw new DeadlineExceededException(s.link.peer(), "deadline passed before it was sent for " + what
                + " on worker " + s.link.peer(), true);
        }
    }

    private static void checkUp(PeerSession s) {
        if (s.isDown()) {
            throw new WorkerDiedException(s.link.peer(), false, "link to worker " + s.link.peer()
                + " is down: " + s.link.closeReason());
        }
    }

    /**
     * Sends a request's frame once the link can take it, waiting until {@code deadline} at most; the
     * frame is released when it cannot be sent, and the holds it counted for the peer are undone.
     */
    private void send(PeerSession s, ByteBuf frame, Object what, long deadline) throws InterruptedException {
        boolean writable;
        try {
            writable = s.link.isWritable() || s.link.awaitWritable(deadline);
        } catch (InterruptedException e) {
            runtime.unsent(s.link.peer(), frame);
            frame.release();
            throw e;
        }
        if (!writable) {
            runtime.unsent(s.link.peer(), frame);
            frame.release();
            if (!s.link.isOpen()) {
                throw new WorkerDiedException(s.link.peer(), false, "link to worker " + s.link.peer()
                    + " ended before " + what + " was sent: " + s.link.closeReason());
            }
            throw notSent(s.link.peer(), what, s.link.isConnected()
                ? "while the link was backed up" : "while the link was reconnecting");
        }
        s.link.send(frame, s.pending.size() > 1); // calls in flight: let the loop batch them
    }

    private ByteBuf encodeFrame(PeerSession s, Message m, Object what) {
        ByteBuf frame = FrameCodec.begin(s.link.alloc(), FrameCodec.TYPE_DATA, 128);
        try {
            runtime.codec().encode(m, frame, s.link.peer());
        } catch (CodecException e) {
            frame.release();
            runtime.unsent(s.link.peer(), e.holds()); // the references written before the value that failed
            // nothing left: the call was not sent, and a caller may send what else it held without that value
            throw new io.jcircuit.UnwritableValueException("cannot send " + what + " to worker " + s.link.peer() + ": "
                + e.getMessage(), e);
        }
        ByteBuf finished = FrameCodec.finish(frame);
        String tooLarge = Invoker.aboveFrameLimit(finished, s.link.maxFrameBytes());
        if (tooLarge != null) {
            runtime.unsent(s.link.peer(), finished);
            finished.release();
            throw new io.jcircuit.FrameTooLargeException("cannot send " + what + " to worker " + s.link.peer() + ": " + tooLarge);
        }
        return finished;
    }

    /**
     * Null when {@code frame} fits the link's frame limit; else what to tell the user. A frame above
     * it would be taken by the peer for a protocol error, which ends the session and every call on it.
     */
    static String aboveFrameLimit(ByteBuf frame, int maxFrameBytes) {
        if (frame.readableBytes() <= maxFrameBytes) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "it encodes to %,d bytes, above the frame limit of %,d bytes"
            + " (RuntimeConfig.Builder.maxFrameBytes, in both runtimes; send large data in parts, or"
            + " through a channel)", frame.readableBytes(), maxFrameBytes);
    }

    /**
     * A request to this runtime: copy it through the codec, serve it here, copy the answer back. A
     * {@code go} runs on a thread of its own, and its caller waits for it as for one on another runtime:
     * until {@code deadline}, or until this runtime closes.
     */
    private Object requestSelf(Message request, long deadline, Object what) {
        Message copy = copyRequest(request, what);
        Message answer = request instanceof Message.Go
            ? awaitLocalGo(runtime.dispatcher().serveOnNewThread(copy), deadline, what)
            : runtime.dispatcher().serve(copy);
        if (runtime.isClosed()) {
            // as a remote call whose link breaks: the caller cannot tell whether it ran to its end
            throw new WorkerDiedException(runtime.id(), true, "worker " + runtime.id()
                + " closed while a call on one of its own objects ran");
        }
        return unwrapLocal(copy(answer, "answer"), request.getClass().getSimpleName(), runtime.id());
    }

    /**
     * Waits for the answer of a {@code go} on this runtime until {@code deadline}. The outcomes are those
     * of a go on another runtime: {@link DeadlineExceededException} at the deadline, the function going
     * on; {@link WorkerDiedException} when this runtime closes; both with the outcome unknown.
     */
    private Message awaitLocalGo(java.util.concurrent.CompletableFuture<Message> answer, long deadline, Object what) {
        try {
            return answer.get(deadline - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw timeout(runtime.id(), what, "waiting for the answer");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CircuitException("interrupted while waiting for " + what + " on worker " + runtime.id()
                + "; it may still run there", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof WorkerDiedException died) {
                throw died; // the way it fails: the runtime closed (Dispatcher.close)
            }
            throw new CircuitException("go on worker " + runtime.id() + " failed outside the function: " + e.getCause(), e.getCause());
        } finally {
            answer.cancel(false); // nobody waits for it any more; done already, it stays as it is
        }
    }

    /**
     * Copies a request to this runtime through the codec, failing as a request to another runtime does:
     * {@link io.jcircuit.UnwritableValueException} when a value cannot be written, {@link
     * io.jcircuit.UnreadableValueException} when one cannot be read back; either way it did not run.
     */
    private Message copyRequest(Message request, Object what) {
        ByteBuf buf = Unpooled.buffer(256);
        try {
            try {
                runtime.codec().encode(request, buf);
            } catch (CodecException e) {
                throw new io.jcircuit.UnwritableValueException("cannot send " + what + " to worker " + runtime.id()
                    + " (this one): " + e.getMessage(), e);
            }
            try {
                return runtime.codec().decode(buf);
            } catch (CodecException e) {
                if (e.beyondReaderLimits()) {
                    throw new io.jcircuit.UnreadableValueException("the request of " + what + " could not be read back"
                        + " on worker " + runtime.id() + " (this one); it did not run: " + e.getMessage(), e);
                }
                throw new CircuitException("cannot copy the request of " + what + " through the codec: "
                    + e.getMessage(), e);
            }
        } finally {
            buf.release();
        }
    }

    private Message copy(Message m, Object what) {
        ByteBuf buf = Unpooled.buffer(256);
        try {
            runtime.codec().encode(m, buf);
            return runtime.codec().decode(buf);
        } catch (CodecException e) {
            throw new CircuitException("cannot copy the " + what + " through the codec: " + e.getMessage(), e);
        } finally {
            buf.release();
        }
    }

    /** Decodes an answer payload (and releases it): the value, or the rebuilt remote exception thrown. */
    private Object unwrap(PeerSession s, ByteBuf answer, Object what) {
        Message m;
        try {
            m = runtime.codec().decode(answer, s.link.peer());
        } catch (CodecException e) {
            runtime.unread(s, e);
            if (e.beyondReaderLimits()) {
                // a sound envelope, only its values unreadable here: this call fails, the link is sound
                throw new io.jcircuit.UnreadableValueException("the answer to " + what + " from worker " + s.link.peer()
                    + " could not be read: " + e.getMessage(), e);
            }
            String reason = "undecodable answer to " + what + ": " + e.getMessage();
            runtime.dispatcher().protocolError(s, reason);
            throw new CircuitException("worker " + s.link.peer() + " sent an " + reason, e);
        } finally {
            answer.release();
        }
        return unwrapLocal(m, what, s.link.peer());
    }

    private Object unwrapLocal(Message answer, Object what, WorkerId where) {
        return switch (answer) {
            case Message.Reply r -> r.value();
            case Message.Failure f -> throw sneaky(rebuild(f.failure(), what, where));
            case Message.Call c -> throw unexpected(c);
            case Message.Go g -> throw unexpected(g);
            case Message.Lookup l -> throw unexpected(l);
            case Message.Acquire a -> throw unexpected(a);
            case Message.Release r -> throw unexpected(r);
        };
    }

    /**
     * The exception a failure answer stands for. A callee's {@link io.jcircuit.DeadlineExceededException}
     * (it stopped waiting for its future at the caller's deadline) is the caller's own: it names the
     * worker, which no constructor the codec can call takes, so it is made here. The caller's deadline
     * timer and that answer race; either way the caller sees the same exception.
     */
    private Throwable rebuild(io.jcircuit.codec.RemoteFailure failure, Object what, WorkerId where) {
        Throwable t = failure.rebuild(runtime.config().classLoader(), what + " on worker " + where, new Throwable().getStackTrace());
        if (failure.className().equals(io.jcircuit.DeadlineExceededException.class.getName())) {
            // the callee says when it refused a call whose deadline had passed: that call did not run
            boolean notRun = failure.message() != null && failure.message().endsWith(Dispatcher.NOT_RUN);
            io.jcircuit.DeadlineExceededException d = new io.jcircuit.DeadlineExceededException(where, failure.message(), notRun);
            d.setStackTrace(t.getStackTrace());
            return d;
        }
        if (failure.className().equals(WorkerDiedException.class.getName())
            && Dispatcher.closingRefusal(where).equals(failure.message())) {
            // the callee was closing and refused the call before it began (not one its own code passed on)
            WorkerDiedException died = new WorkerDiedException(where, false, failure.message());
            died.setStackTrace(t.getStackTrace());
            return died;
        }
        return t;
    }

    private static CircuitException unexpected(Message m) {
        return new CircuitException("protocol error: a " + m.getClass().getSimpleName() + " arrived as an answer");
    }

    @SuppressWarnings("unchecked")
    private static <X extends Throwable> RuntimeException sneaky(Throwable t) throws X {
        throw (X) t;
    }

    private long deadline() {
        long scoped = Deadline.currentNanoTime().orElse(Long.MIN_VALUE);
        if (scoped != Long.MIN_VALUE) {
            return scoped;
        }
        return System.nanoTime() + runtime.config().defaultCallTimeoutMs() * 1_000_000L;
    }

    /** A call whose deadline passed while it waited to go: it was not sent, so it did not run and never will. */
    private static DeadlineExceededException notSent(WorkerId peer, Object what, String doing) {
        return new DeadlineExceededException(peer, "deadline passed " + doing + " for " + what + " on worker " + peer
            + "; it was not sent", true);
    }

    private static DeadlineExceededException timeout(WorkerId peer, Object what, String doing) {
        return new DeadlineExceededException(peer, "deadline passed " + doing + " for " + what + " on worker " + peer);
    }
}
