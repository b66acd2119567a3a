package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.CorruptedFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A session with a peer runtime: one logical link that carries calls in both directions and
 * outlives the TCP connections under it.
 *
 * <p>When the connection breaks (closed, reset, or silent past the silence limit), both sides
 * redial the other's listening address with backoff and a RESUME handshake, and each replays the
 * DATA frames the other has not acknowledged; the receiver skips sequence numbers it already has.
 * So a frame sent during an outage shorter than the outage limit arrives exactly once. If both sides
 * get through at once, each keeps the connection dialed by the smaller worker id, and closes the
 * other one. The session ends, and {@link LinkListener#onLinkDown} reports it once, when:
 * <ul>
 *   <li>the outage lasts past {@link LinkConfig#outageLimitMs()}: the peer is declared dead;</li>
 *   <li>the peer's address is on this machine and refuses connections (a refusal from across a
 *       network may come from a firewall, and proves nothing), or another worker answers there, or
 *       the peer no longer knows the session: the process behind it has gone;</li>
 *   <li>the layer above learns from membership that the peer is gone while the session is between
 *       connections, or learned it while connected and nothing came from the peer after that before
 *       the connection broke ({@link LinkTransport#peerGone});</li>
 *   <li>the peer says goodbye (BYE), or this side {@link #close closes} the link, or breaks it for a
 *       protocol error.</li>
 * </ul>
 *
 * <p>Threading: {@link #send} may be called from any thread; frames from one thread go out in the
 * order sent. {@link #awaitWritable} blocks and must not be called on an event loop. Session state
 * changes under this object's monitor; the monitor is never held while waiting on the network.
 */
public final class Link {

    private static final Logger LOG = LoggerFactory.getLogger(Link.class);

    private enum State { CONNECTED, DISCONNECTED, DEAD }

    /**
     * DATA frames kept for replay past which the link reports itself unwritable, whatever their
     * size: many small frames cost a replay more than their bytes say.
     */
    static final int MAX_UNACKED_FRAMES = 65_536;

    private final LinkTransport transport;
    private final WorkerId peer;
    private final Address peerAddress;
    private final long sessionId;
    private final boolean dialed;
    private final EventLoop loop;
    private final FrameSender sender;
    private final Object receiveLock = new Object();
    /** Set by {@link #stopDelivering}: DATA frames are no longer handed up; guarded by receiveLock. */
    private boolean deliveryStopped;
    private final ReentrantLock writableLock = new ReentrantLock();
    private final Condition writableAgain = writableLock.newCondition();
    private volatile State state = State.DISCONNECTED;
    private volatile LinkHandler current;  // written under the monitor
    private volatile String closeReason;
    private volatile boolean outageLimitPassed;
    private volatile boolean endedByThisSide;
    private volatile String closing;        // set by close(): this side is ending the session
    private volatile Object attachment;
    private volatile boolean readingPaused;
    private volatile int writableWaiters;
    /**
     * Set by {@link #peerLeft} while connected: why the peer left {@code /worker}; cleared when anything
     * comes from the peer after that, or when it files itself again. Read when the connection is lost.
     */
    private volatile String leftUnheard;
    private ScheduledFuture<?> outageTimer; // guarded by the monitor
    private boolean redialing;              // guarded by the monitor
    private int redialFailures;             // guarded by the monitor
    /** Why the last redial of this outage failed, or null: said when the outage limit ends the session. */
    private String lastRedialFailure;       // guarded by the monitor
    private long outageStartedNanos;        // guarded by the monitor
    private String lastLoss;                // guarded by the monitor
    private long outages;                   // guarded by the monitor

    Link(LinkTransport transport, WorkerId peer, Address peerAddress, long sessionId, boolean dialed, EventLoop loop) {
        this.transport = transport;
        this.peer = peer;
        this.peerAddress = peerAddress;
        this.sessionId = sessionId;
        this.dialed = dialed;
        this.loop = loop;
        // Direct writes go around the pipeline, TLS included: with TLS every frame goes through Netty.
        this.sender = new FrameSender(transport.config().directWrites() && transport.config().tls() == null,
            reason -> LOG.debug("{}: {}", this, reason), payload -> transport.listener().onNotDelivered(this, payload));
    }

    public WorkerId peer() {
        return peer;
    }

    /** The address the peer listens on (from its handshake), not the ephemeral port it dialed from. */
    public Address peerAddress() {
        return peerAddress;
    }

    /** True when this runtime dialed the session first, false when it accepted it. */
    public boolean dialed() {
        return dialed;
    }

    long sessionId() {
        return sessionId;
    }

    public ByteBufAllocator alloc() {
        return transport.alloc();
    }

    /** True until the session has ended; a session between connections is still open. */
    public boolean isOpen() {
        return state != State.DEAD;
    }

    /** True while a connection carries the session. */
    public boolean isConnected() {
        return state == State.CONNECTED;
    }

    /** Connections lost and redialed so far. */
    public synchronized long outages() {
        return outages;
    }

    /** Why the session ended, once it has; {@code null} while open. */
    public String closeReason() {
        return closeReason;
    }

    /**
     * Sends a frame built with {@link FrameCodec#begin} and {@link FrameCodec#finish}. Takes
     * ownership of {@code frame}. A DATA frame sent while the session is between connections waits
     * for the next one; on an ended session it is dropped, and the layer above learns of the end
     * through {@link LinkListener#onLinkDown}. Never blocks on the network.
     * Frames leave in the order their sequence numbers are stamped; see {@link FrameSender}.
     */
    public void send(ByteBuf frame) {
        send(frame, false);
    }

    /**
     * Like {@link #send(ByteBuf)}; with {@code viaEventLoop} the frame is left to the event loop even
     * where a direct write is possible. Callers that know many frames are in flight pass true: the
     * loop then coalesces them into fewer writes (and the peer into fewer wake-ups), which under load
     * beats one system call per frame.
     */
    public void send(ByteBuf frame, boolean viaEventLoop) {
        int max = maxFrameBytes();
        if (frame.readableBytes() > max) {
            int size = frame.readableBytes();
            frame.release();
            // the peer would cut the connection off as a protocol error, and the session with it
            throw new IllegalArgumentException("a frame of " + size + " bytes is above the frame limit of "
                + max + " bytes");
        }
        sender.send(frame, viaEventLoop);
    }

    /**
     * The largest frame, header included, that this link sends or takes
     * ({@link LinkConfig#maxFrameBytes}); a runtime with a smaller limit cuts off a peer that sends it more.
     */
    public int maxFrameBytes() {
        return transport.config().maxFrameBytes();
    }

    /**
     * True when this link's frames are written by the sending threads themselves: on epoll, with
     * {@link LinkConfig#directWrites}, once its connection has carried its first writes through the loop.
     */
    public boolean writesDirectly() {
        return sender.writesDirectly();
    }

    /**
     * True while a connection carries the session, its outbound queue is below the high-water mark,
     * and the frames kept for replay are below {@link LinkConfig#maxUnackedBytes()} and 65,536. The bytes
     * count frames already sent to this link that wait for another sender to stamp them, so senders that
     * check one after another see each other's frames; a sender that checks, then encodes, and only
     * then sends should check again once its frame is made.
     */
    public boolean isWritable() {
        LinkHandler c = current;
        return c != null && c.channel().isWritable()
            && sender.committedBytes() <= transport.config().maxUnackedBytes()
            && sender.unackedFrames() < MAX_UNACKED_FRAMES;
    }

    /**
     * Waits until the link {@link #isWritable() is writable}, the session ends, or
     * {@code deadlineNanoTime} passes. Returns whether the link is writable.
     *
     * @throws InterruptedException with the interrupt flag cleared, as usual
     */
    public boolean awaitWritable(long deadlineNanoTime) throws InterruptedException {
        if (isWritable() || !isOpen()) {
            return isWritable();
        }
        LinkHandler c = current; // read once: a connection that breaks meanwhile sets it to null
        if (loop.inEventLoop() || (c != null && c.channel().eventLoop().inEventLoop())) {
            throw new IllegalStateException("awaitWritable would block the event loop of " + this);
        }
        // The replay buffer is trimmed (under the send lock) outside the writable lock: the event
        // loop signals writability while it holds the send lock, so the two are never nested.
        while (isOpen()) {
            sender.trim();
            if (isWritable()) {
                return true;
            }
            long left = deadlineNanoTime - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            writableLock.lock();
            writableWaiters++;
            try {
                if (!isWritable() && isOpen()) {
                    writableAgain.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
                }
            } finally {
                writableWaiters--;
                writableLock.unlock();
            }
        }
        return false;
    }

    /**
     * Ends the session: the peer is told why (BYE) if a connection is up, and both sides report the
     * link down. {@code reason} reaches the log and {@link LinkListener#onLinkDown}. The BYE's ack is the
     * last DATA frame handed to the layer above ({@link #stopDelivering} comes first), so the peer knows
     * that none of its frames beyond it was ({@link LinkListener#onNotDelivered}).
     */
    public void close(String reason) {
        if (!isOpen()) {
            return;
        }
        stopDelivering();
        closing = reason; // before the BYE: the connection may drop before end() runs
        LinkHandler c = current;
        if (c != null) {
            ByteBuf bye = FrameCodec.begin(alloc(), FrameCodec.TYPE_BYE, 64);
            bye.writeCharSequence(reason, StandardCharsets.UTF_8);
            send(FrameCodec.finish(bye), true);
        }
        if (loop.inEventLoop()) {
            end(reason, true);
        } else {
            try {
                loop.execute(() -> end(reason, true));
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // the loop takes no more tasks (its driver failed, or it is closing); end is safe on this thread, as
                // it decides under the link's lock, while the loop may still be running what it took before
                end(reason, true);
            }
        }
    }

    /**
     * Hands no more DATA frames to the layer above, for good; the frames that arrive are dropped unread
     * and unacknowledged. Once this returns, the last frame handed up (or being handed up) is final, and
     * {@link #close}'s goodbye names it. Idempotent.
     */
    public void stopDelivering() {
        synchronized (receiveLock) {
            deliveryStopped = true; // a frame being handed up holds the lock: it is done when this returns
        }
    }

    /** Stops reading from the peer (it is pushed back by TCP) until {@link #resumeReading()}. */
    public void pauseReading() {
        readingPaused = true;
        LinkHandler c = current;
        if (c != null) {
            c.channel().config().setAutoRead(false);
        }
    }

    /** Undoes {@link #pauseReading()}. */
    public void resumeReading() {
        readingPaused = false;
        LinkHandler c = current;
        if (c != null) {
            c.channel().config().setAutoRead(true);
        }
    }

    /** State the layer above keeps with this link; set once, in {@link LinkListener#onLinkUp}. */
    public void attach(Object value) {
        attachment = value;
    }

    public Object attachment() {
        return attachment;
    }

    // ---------------------------------------------------------------- from the connection handlers

    /** True while the layer above holds reading back; the peer's silence is then ours, not its. */
    boolean isReadingPaused() {
        return readingPaused;
    }

    /** The connection that carries the session now, or null. */
    LinkHandler current() {
        return current;
    }

    long receivedSequence() {
        return sender.receivedSequence();
    }

    /**
     * Event loop of {@code handler}: a connection finished its handshake for this session. Returns
     * false when the session already has a connection it prefers (the caller closes this one).
     * {@code first} (a WELCOME, or null) is written on it before the replay.
     */
    boolean connect(LinkHandler handler, WorkerId dialer, long peerReceived, ByteBuf first) {
        LinkHandler old;
        synchronized (this) {
            if (state == State.DEAD || (current != null && !prefers(dialer, current.dialer()))) {
                if (first != null) {
                    first.release();
                }
                return false;
            }
            old = current;
            if (outageTimer != null) {
                outageTimer.cancel(false);
                outageTimer = null;
            }
            if (state == State.DISCONNECTED && outageStartedNanos != 0) {
                LOG.info("{}: connection restored after {} ms", this,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageStartedNanos));
            }
            outageStartedNanos = 0;
            redialFailures = 0;
            lastRedialFailure = null;
            current = handler;
            state = State.CONNECTED;
            leftUnheard = null; // a handshake just came from the peer
            if (old != null) {
                sender.disconnect(old.channel());
            }
            if (readingPaused) {
                handler.channel().config().setAutoRead(false);
            }
            sender.connect(handler.channel(), peerReceived, first);
        }
        if (old != null) {
            old.channel().close();
        }
        signalWritabilityChanged();
        return true;
    }

    /** Whether a connection dialed by {@code candidate} should replace one dialed by {@code existing}. */
    private boolean prefers(WorkerId candidate, WorkerId existing) {
        if (candidate.equals(existing)) {
            return true; // a newer connection from the same side: the old one is broken or about to be
        }
        WorkerId self = transport.self();
        WorkerId smaller = Long.compareUnsigned(self.value(), peer.value()) < 0 ? self : peer;
        return candidate.equals(smaller);
    }

    /**
     * Event loop of {@code handler}: a DATA frame arrived. Returns true when it was handed to the
     * listener (which then owns it); false when it was a duplicate or came on a connection the
     * session no longer uses.
     */
    boolean deliver(LinkHandler handler, ByteBuf frame) {
        if (current != handler) {
            return false; // replayed on the current connection, if the peer lacks it
        }
        long seq = FrameCodec.sequence(frame);
        // Handed up under the lock, so that stopDelivering() knows the last frame that went up.
        synchronized (receiveLock) {
            if (deliveryStopped || transport.deliveryStopped()) {
                return false; // closing: the goodbye tells the peer this frame was not taken
            }
            long have = sender.receivedSequence();
            if (seq <= have) {
                return false; // replayed, and we have it already
            }
            if (seq != have + 1) {
                throw new CorruptedFrameException("DATA frame out of order: sequence " + seq + " after " + have);
            }
            sender.received(seq, frame.readableBytes());
            long held = FrameCodec.heldNanos(frame);
            transport.listener().onData(this, FrameCodec.skipHeader(frame), held);
        }
        return true;
    }

    /** Any event loop: the peer acknowledged every DATA frame up to {@code ack}. */
    void acked(long ack) {
        // Every frame after the handshake carries an ack, so this is where the peer is heard from.
        if (leftUnheard != null) {
            leftUnheard = null; // it outlived its /worker entry: that entry's end says nothing of its death
        }
        sender.acked(ack);
        if (writableWaiters > 0) {
            signalWritabilityChanged();
        }
    }

    /**
     * After a read burst: acknowledges when many frames, or many bytes, arrived and none went back to
     * carry the ack. By bytes too: a few large frames are a large part of the peer's replay limit, and
     * its senders wait for room until an ack frees it. Not while the connection cannot take more (a
     * peer that sends and never reads would have ACKs pile up here): the ack goes once it can
     * ({@link LinkHandler#channelWritabilityChanged}).
     */
    void ackIfOwed(int frames, long bytes) {
        LinkHandler c = current;
        if ((sender.unacknowledgedReceipts() >= frames || sender.unacknowledgedReceiptBytes() >= bytes)
                && c != null && c.channel().isWritable()) {
            send(FrameCodec.finish(FrameCodec.begin(alloc(), FrameCodec.TYPE_ACK, 0)), true);
        }
    }

    /** Event loop of {@code handler}: its connection closed or went silent. Starts an outage. */
    void connectionLost(LinkHandler handler, String reason) {
        String closedHere = closing;
        if (closedHere != null) {
            end(closedHere, true); // this side said goodbye; the peer closing after it is no outage
            return;
        }
        String left;
        synchronized (this) {
            if (current != handler || state != State.CONNECTED) {
                return;
            }
            current = null;
            state = State.DISCONNECTED;
            left = leftUnheard;
            leftUnheard = null;
            sender.disconnect(handler.channel());
            outages++;
            lastLoss = reason;
            outageStartedNanos = System.nanoTime();
            int limit = transport.config().outageLimitMs();
            lastRedialFailure = null;
            outageTimer = loop.schedule(() -> endOutage("no connection for " + limit + " ms (the outage limit); the"
                + " connection was lost because: " + reason + lastRedialFailure() + "; worker " + peer + " is declared dead",
                false), limit, TimeUnit.MILLISECONDS);
            LOG.info("{}: connection lost ({}); redialing, outage limit {} ms", this, reason, limit);
        }
        signalWritabilityChanged();
        if (left != null) {
            // It left /worker and nothing came from it since: it was out of reach already when it left
            // (a host that died whole is noticed by ZooKeeper before this link's silence limit).
            end(left, false);
            return;
        }
        redialSoon(0);
    }

    private void redialSoon(long delayMs) {
        if (delayMs == 0) {
            loop.execute(this::redial);
        } else {
            loop.schedule(this::redial, delayMs, TimeUnit.MILLISECONDS);
        }
    }

    private void redial() {
        synchronized (this) {
            if (state != State.DISCONNECTED || redialing || transport.isClosed()) {
                return;
            }
            redialing = true;
        }
        transport.redial(this).whenComplete((ignored, err) -> {
            long next;
            Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
            synchronized (this) {
                redialing = false;
                if (err == null || state != State.DISCONNECTED) {
                    return;
                }
                redialFailures++;
                // A peer that answers but refuses the handshake (its certificate expired, say) is the reason the
                // outage does not end, and the operator must hear it rather than only the loss that began it.
                lastRedialFailure = cause.getMessage() == null ? cause.toString() : cause.getMessage();
                LinkConfig c = transport.config();
                long backoff = Math.min((long) c.redialMaxMs(), (long) c.redialMinMs() << Math.min(redialFailures - 1, 20));
                next = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            }
            if (cause instanceof LinkRejectedException rejected && rejected.isFinal()) {
                end(rejected.getMessage(), false);
            } else if (cause instanceof ConnectException && !(cause instanceof HandshakeFailedException)
                && String.valueOf(cause.getMessage()).contains("refused") && transport.isLocalAddress(peerAddress.host())) {
                // Our own kernel refused: nothing listens at the peer's port on this machine any more. (A failed
                // handshake is a ConnectException too, and may say "refused": a runtime that refused the TLS
                // handshake, one whose certificate has expired, say, is there.)
                end("worker " + peer + " at " + peerAddress + " refuses connections: its runtime has stopped", false);
            } else {
                LOG.debug("{}: redial failed ({}); next in {} ms", this, cause.toString(), next);
                redialSoon(next);
            }
        });
    }

    /** "; the last redial failed: ..." when one did in this outage, else nothing. */
    private synchronized String lastRedialFailure() {
        return lastRedialFailure == null ? "" : "; the last redial failed: " + lastRedialFailure;
    }

    private void endOutage(String reason, boolean byThisSide) {
        outageLimitPassed = true;
        end(reason, byThisSide);
    }

    /**
     * True once the session has ended because it stayed without a connection past the outage limit:
     * the peer is declared dead though nobody saw it stop.
     */
    public boolean outageLimitPassed() {
        return outageLimitPassed;
    }

    /**
     * True once this side ended the session: it closed the link (its runtime closing, or bad input from
     * the peer). False while the session is open, and when the peer ended it: it said goodbye, its
     * runtime stopped, or it stayed out of reach past the outage limit.
     */
    public boolean endedByThisSide() {
        return endedByThisSide;
    }

    /**
     * The peer left {@code /worker} (see {@link LinkTransport#peerGone}): ends the session if it is
     * between connections; if it is connected, ends it when the connection is lost unless something
     * comes from the peer first ({@link #acked}) or it files itself again ({@link #peerBack}).
     */
    void peerLeft(String reason) {
        LinkHandler c = current;
        // On the connection's own event loop, after the reads it has pending: a frame read after this runs
        // was not merely waiting in the socket while a busy loop fell behind (a peer that died whole may
        // have sent heartbeats just before it did), so it is the peer's word after it left.
        EventLoop l = c != null ? c.channel().eventLoop() : loop;
        l.execute(() -> {
            boolean connected;
            synchronized (this) {
                if (state == State.DEAD) {
                    return;
                }
                connected = state == State.CONNECTED;
                if (connected) {
                    leftUnheard = reason;
                }
            }
            if (connected) {
                // A PING asks for a word at once: a peer that runs is known to within a round trip, even
                // on an idle link, so a blip soon after does not end its session.
                send(FrameCodec.finish(FrameCodec.begin(alloc(), FrameCodec.TYPE_PING, 0)), true);
            } else {
                end(reason, false);
            }
        });
    }

    /** The peer filed itself in {@code /worker} again: its earlier leaving no longer counts. */
    void peerBack() {
        leftUnheard = null;
    }

    /** The peer said goodbye on {@code handler}'s connection; the BYE's ack, already taken, is its last word. */
    void peerSaidBye(LinkHandler handler, String reason) {
        // an orderly end, as every short-lived client (each 'circuit' command) makes: logged at debug
        end("worker " + peer + " said goodbye: " + reason, false, true);
    }

    /**
     * Ends the session once: no more sends or redials, the replay buffer freed, the connection
     * closed, and the listener told.
     */
    void end(String reason, boolean byThisSide) {
        end(reason, byThisSide, false);
    }

    private void end(String reason, boolean byThisSide, boolean orderly) {
        LinkHandler c;
        synchronized (this) {
            if (state == State.DEAD) {
                return;
            }
            state = State.DEAD;
            endedByThisSide = byThisSide;
            c = current;
            current = null;
            if (outageTimer != null) {
                outageTimer.cancel(false);
                outageTimer = null;
            }
        }
        if (closeReason == null) {
            closeReason = reason;
        }
        if (orderly) {
            LOG.debug("{} ended: {}", this, reason);
        } else if (!byThisSide) {
            LOG.info("{} ended: {}", this, reason);
        }
        if (c != null) {
            // Let a BYE queued just before this go out first: close behind the queued writes.
            Channel ch = c.channel();
            try {
                ch.eventLoop().execute(ch::close);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // the loop closed its channels as it stopped
            }
        }
        sender.kill(orderly); // a goodbye's ack names the last frame the peer took (see close)
        transport.forget(this);
        signalWritabilityChanged();
        transport.listener().onLinkDown(this, closeReason);
    }

    void signalWritabilityChanged() {
        writableLock.lock();
        try {
            writableAgain.signalAll();
        } finally {
            writableLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "link to " + peer + " at " + peerAddress + (dialed ? " (dialed)" : " (accepted)");
    }
}
