package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.epoll.EpollSocketChannel;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The sending half of a {@link Link}: sequence numbers, the replay buffer, and the writes.
 *
 * <p>Frames go into an outbox; whichever sender holds the send lock drains it, stamping each frame's
 * sequence number and ack and writing it, so the order on the wire is the order of stamps, and frames
 * that arrive while another thread writes leave with its batch. On epoll, once a connection is busy
 * ({@link #DIRECT_AFTER} writes by sending threads), the draining thread writes to the socket itself
 * ({@link DirectWriter}) while nothing waits in Netty's queue; what the socket does not take at once,
 * and every frame after it until that queue drains, goes through the event loop, as does every frame
 * on a connection where a write through the loop has failed. The lock is held across non-blocking
 * writes only. Frames sent from the event loop itself are queued as loop tasks too, never written
 * inline, so they cannot pass frames stamped before them.
 *
 * <p>Every DATA frame stays in the replay buffer (a retained duplicate: same bytes, own indices)
 * until the peer's ack covers it. While the session has no connection, DATA frames are stamped into
 * that buffer only; {@link #connect} writes whatever the peer has not got on the new connection
 * before anything else. Other frames (PING, PONG, ACK, BYE) are not kept: they mean something only
 * on the connection they were sent on.
 */
final class FrameSender {

    /** Frames that wait together are copied into one write of at most this many bytes. */
    private static final int MAX_BATCH_BYTES = 64 * 1024;

    /**
     * How many writes sending threads hand to the event loop on one connection before it writes directly.
     * A connection that carries only a worker's start-up and the odd call never does, and a JVM whose
     * connections are all like that never binds libc through the FFM linker: 1.8 MB of an idle worker's
     * memory, and tens of milliseconds of a cold worker's start spent linking (docs/performance.md).
     */
    static final int DIRECT_AFTER = 64;

    private final boolean directWrites;
    private final Consumer<String> writeFailed;
    /** Takes the payload of each DATA frame that surely never reached the peer's layer above; see {@link #kill}. */
    private final Consumer<ByteBuf> notDelivered;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ConcurrentLinkedQueue<ByteBuf> outbox = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<ByteBuf> unacked = new ArrayDeque<>(); // guarded by sendLock
    /** When each frame of {@link #unacked} was first sent, in the same order; guarded by sendLock. */
    private final NanoRing unackedSince = new NanoRing();
    private Channel channel;                // guarded by sendLock; null while disconnected
    private DirectWriter direct;             // guarded by sendLock
    /** Writes by sending threads still to go through the loop before this connection writes directly; 0: no more. */
    private int writesBeforeDirect;         // guarded by sendLock
    /** Writes handed to Netty on the current channel; direct writes wait until they are done. */
    private LoopWrites loopWrites = new LoopWrites(); // replaced under sendLock
    private long sendSequence;              // guarded by sendLock
    private boolean dead;                   // guarded by sendLock
    /** DATA frames sent after the end, to hand to {@link #notDelivered} once the lock is let go; guarded by sendLock. */
    private java.util.ArrayList<ByteBuf> sentAfterDeath;
    private volatile long unackedBytes;     // written under sendLock
    /**
     * Bytes of the frames in the outbox: offered by a sender, not yet stamped. Counted with
     * {@link #unackedBytes} for writability, so that senders that queue behind the one draining (and may
     * unmount meanwhile) are seen by the next one that checks, not only once their frames are stamped.
     */
    private final java.util.concurrent.atomic.AtomicLong offeredBytes = new java.util.concurrent.atomic.AtomicLong();
    private volatile int unackedCount;      // written under sendLock
    private volatile long peerAcked;        // highest ack seen from the peer
    private volatile long receivedSequence; // highest DATA sequence taken from the peer
    private volatile long lastAckSent;
    /** Bytes of the DATA frames taken since the last frame that carried an ack back; roughly (see {@link #received}). */
    private volatile long receivedBytesSinceAck;

    FrameSender(boolean directWrites, Consumer<String> writeFailed, Consumer<ByteBuf> notDelivered) {
        this.directWrites = directWrites;
        this.writeFailed = writeFailed;
        this.notDelivered = notDelivered;
    }

    /**
     * Counts the writes of one connection that wait in Netty's queue; each decrements it as it ends.
     * A write that fails (Netty closed the channel and dropped its queue) bars direct writes on that
     * connection for good: the duplicate descriptor keeps the socket open after Netty's close, so a
     * later frame written straight to it would reach the peer after a gap, which the peer rightly
     * takes for a broken stream. The dropped frames are replayed on the next connection instead.
     */
    private static final class LoopWrites extends AtomicInteger implements ChannelFutureListener {
        private volatile boolean failed;

        /** Before a write is handed to Netty. */
        LoopWrites queued() {
            incrementAndGet();
            return this;
        }

        /** True when nothing waits in Netty's queue and nothing there has failed. */
        boolean allowDirect() {
            return get() == 0 && !failed;
        }

        @Override
        public void operationComplete(io.netty.channel.ChannelFuture f) {
            if (!f.isSuccess()) {
                failed = true; // before the count drops, so a sender that sees 0 sees this too
            }
            decrementAndGet();
        }
    }

    boolean writesDirectly() {
        sendLock.lock();
        try {
            return direct != null;
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Event loop: DATA frame {@code sequence}, of {@code bytes}, was taken. The byte count is reset by
     * whichever thread stamps the next frame, so an addition may be lost to a reset that comes at
     * once: an ack then goes a little late, never wrongly.
     */
    void received(long sequence, int bytes) {
        receivedSequence = sequence;
        receivedBytesSinceAck = receivedBytesSinceAck + bytes;
    }

    long receivedSequence() {
        return receivedSequence;
    }

    /** DATA frames taken from the peer since the last frame that carried an ack back. */
    long unacknowledgedReceipts() {
        return receivedSequence - lastAckSent;
    }

    /** Bytes of the DATA frames taken from the peer since the last frame that carried an ack back. */
    long unacknowledgedReceiptBytes() {
        return receivedSequence == lastAckSent ? 0 : receivedBytesSinceAck;
    }

    /** Any thread: the peer has every DATA frame up to {@code ack}. The buffer is trimmed on the next send. */
    void acked(long ack) {
        if (ack > peerAcked) {
            peerAcked = ack;
        }
    }

    long unackedBytes() {
        return unackedBytes;
    }

    /** Bytes kept for replay plus those offered and not yet stamped: what a writability check counts. */
    long committedBytes() {
        return unackedBytes + offeredBytes.get();
    }

    /** DATA frames kept for replay (a racy read, fine for a writability hint). */
    int unackedFrames() {
        return unackedCount;
    }

    boolean isConnected() {
        return channel != null; // a racy read is fine for a writability hint
    }

    void send(ByteBuf frame, boolean viaEventLoop) {
        if (viaEventLoop) {
            FrameCodec.markViaEventLoop(frame);
        }
        offeredBytes.getAndAdd(frame.readableBytes());
        outbox.offer(frame);
        // The holder of the lock may take our frame with its batch; if not, we drain it ourselves.
        // Blocking (not spinning) on the lock: on one CPU a spinner would starve the holder.
        while (!outbox.isEmpty()) {
            java.util.List<ByteBuf> lost;
            sendLock.lock();
            try {
                drainOutbox();
                lost = sentAfterDeath;
                sentAfterDeath = null;
            } finally {
                sendLock.unlock();
            }
            if (lost != null) {
                lost.forEach(this::notDelivered);
            }
        }
    }

    /**
     * Event loop of {@code ch}: the session has a new connection. Writes {@code first} (a WELCOME, or
     * null), then replays every DATA frame beyond {@code peerReceived}, before any later frame.
     */
    void connect(Channel ch, long peerReceived, ByteBuf first) {
        sendLock.lock();
        try {
            if (dead) {
                if (first != null) {
                    first.release();
                }
                return;
            }
            closeDirectLocked();
            acked(peerReceived);
            trimLocked();
            channel = ch;
            LoopWrites writes = new LoopWrites();
            loopWrites = writes;
            writesBeforeDirect = directWrites && ch instanceof EpollSocketChannel ? DIRECT_AFTER : 0;
            if (first != null) {
                FrameCodec.stamp(first, 0, receivedSequence);
                ch.write(first).addListener(writes.queued());
            }
            // Replayed frames are copied into batches: one write per 64 KiB rather than per frame,
            // so that a replay of many small frames costs the event loop little.
            // Each says how long it was held here, so that the receiver counts a call's deadline from
            // when it was sent, not from when it finally arrived.
            ByteBuf batch = null;
            long now = System.nanoTime();
            int i = 0;
            for (ByteBuf kept : unacked) {
                long heldNanos = now - unackedSince.get(i++);
                if (batch != null && batch.readableBytes() + kept.readableBytes() > MAX_BATCH_BYTES) {
                    ch.write(batch).addListener(writes.queued());
                    batch = null;
                }
                if (kept.readableBytes() > MAX_BATCH_BYTES) {
                    FrameCodec.setHeld(kept, kept.readerIndex(), heldNanos); // its first sending is over
                    ch.write(kept.retainedDuplicate()).addListener(writes.queued());
                    continue;
                }
                if (batch == null) {
                    batch = ch.alloc().ioBuffer(MAX_BATCH_BYTES);
                }
                int at = batch.writerIndex();
                batch.writeBytes(kept, kept.readerIndex(), kept.readableBytes());
                FrameCodec.setHeld(batch, at, heldNanos);
            }
            if (batch != null) {
                ch.write(batch).addListener(writes.queued());
            }
            ch.flush();
        } finally {
            sendLock.unlock();
        }
    }

    /** The current connection is gone; DATA frames wait in the replay buffer for the next one. */
    void disconnect(Channel ch) {
        sendLock.lock();
        try {
            if (channel == ch) {
                channel = null;
                closeDirectLocked();
            }
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * The session has ended: nothing more is sent or kept. The DATA frames that surely never reached the
     * peer's layer above go to the not-delivered consumer, once the lock is let go: those still in the
     * outbox (never sent), those sent from now on, and with {@code peerAckFinal} (the peer's goodbye
     * acknowledged the last frame it took, and it takes no more) those kept for replay beyond that ack.
     * Without it, a kept frame may have been taken, and is only released.
     */
    void kill(boolean peerAckFinal) {
        java.util.List<ByteBuf> lost = new java.util.ArrayList<>();
        sendLock.lock();
        try {
            dead = true;
            channel = null;
            closeDirectLocked();
            if (peerAckFinal) {
                trimLocked(); // what remains, the peer did not take
            }
            ByteBuf b;
            while ((b = unacked.poll()) != null) {
                if (peerAckFinal) {
                    lost.add(b);
                } else {
                    b.release();
                }
            }
            unackedSince.clear();
            while ((b = pollOutbox()) != null) {
                keepIfData(b, lost);
            }
            unackedBytes = 0;
            unackedCount = 0;
        } finally {
            sendLock.unlock();
        }
        lost.forEach(this::notDelivered);
    }

    /** A whole frame that did not reach the peer: kept in {@code lost} if DATA, else released. */
    private static void keepIfData(ByteBuf frame, java.util.List<ByteBuf> lost) {
        FrameCodec.takeViaEventLoopMark(frame);
        if (FrameCodec.type(frame) == FrameCodec.TYPE_DATA) {
            lost.add(frame);
        } else {
            frame.release();
        }
    }

    private void notDelivered(ByteBuf frame) {
        notDelivered.accept(FrameCodec.skipHeader(frame));
    }

    /** Drops acknowledged frames from the replay buffer now rather than on the next send. */
    void trim() {
        sendLock.lock();
        try {
            trimLocked();
        } finally {
            sendLock.unlock();
        }
    }

    private void trimLocked() {
        long ack = peerAcked;
        long bytes = unackedBytes;
        ByteBuf head;
        while ((head = unacked.peek()) != null && FrameCodec.sequence(head) <= ack) {
            unacked.poll();
            unackedSince.removeFirst();
            bytes -= head.readableBytes();
            head.release();
        }
        unackedBytes = bytes;
        unackedCount = unacked.size();
    }

    /**
     * Connection {@code ch} is busy: gives it a {@link DirectWriter}. libc is bound (once per JVM, tens of
     * milliseconds in a cold one) on a thread of its own, so that neither this sender nor the event loop
     * waits for it; the descriptor is then duplicated on the event loop, which alone closes it, so the
     * number duplicated is surely still this connection's socket.
     */
    private void startDirectWrites(Channel ch) {
        Thread.ofVirtual().name("circuit-direct-writes").start(() -> {
            if (!DirectWriter.available()) {
                return;
            }
            try {
                ch.eventLoop().execute(() -> {
                    if (!ch.isOpen()) {
                        return;
                    }
                    DirectWriter w = DirectWriter.open(((EpollSocketChannel) ch).fd().intValue());
                    if (w == null) {
                        return;
                    }
                    sendLock.lock();
                    try {
                        if (channel == ch && !dead && direct == null) {
                            direct = w;
                            w = null;
                        }
                    } finally {
                        sendLock.unlock();
                    }
                    if (w != null) {
                        w.close(); // the connection was replaced or the session ended meanwhile
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the transport is closing: nothing to write on
            }
        });
    }

    private void closeDirectLocked() {
        if (direct != null) {
            direct.close();
            direct = null;
        }
    }

    /** Under the send lock: stamps and writes everything in the outbox, batching what is there. */
    private void drainOutbox() {
        if (dead) {
            ByteBuf b;
            while ((b = pollOutbox()) != null) {
                if (sentAfterDeath == null) {
                    sentAfterDeath = new java.util.ArrayList<>();
                }
                keepIfData(b, sentAfterDeath);
            }
            return;
        }
        trimLocked();
        if (channel == null) {
            ByteBuf f;
            while ((f = pollOutbox()) != null) {
                FrameCodec.takeViaEventLoopMark(f);
                stamp(f); // DATA is kept for the next connection; the rest means nothing without one
                f.release();
            }
            return;
        }
        ByteBuf batch;
        while ((batch = takeBatch()) != null) {
            boolean viaLoop = FrameCodec.takeViaEventLoopMark(batch);
            if (direct != null && !viaLoop && loopWrites.allowDirect() && writeDirect(batch)) {
                continue;
            }
            if (channel.eventLoop().isShuttingDown()) {
                // The transport is closing: the frame could not go out, and a failed write would
                // only log that its listener cannot be notified any more.
                batch.release();
                continue;
            }
            Channel ch = channel;
            ChannelFutureListener done = loopWrites.queued();
            if (ch.eventLoop().inEventLoop()) {
                // Written inline here, the frame would overtake write tasks that other threads
                // queued earlier with lower sequence numbers; queue it behind them instead.
                ByteBuf queued = batch;
                ch.eventLoop().execute(() -> ch.writeAndFlush(queued).addListener(done));
            } else {
                if (writesBeforeDirect > 0 && !viaLoop && --writesBeforeDirect == 0) {
                    startDirectWrites(ch);
                }
                // Netty queues this behind earlier writes; if the loop has stopped, it releases the
                // frame and fails the promise rather than throwing.
                ch.writeAndFlush(batch).addListener(done);
            }
        }
    }

    /**
     * Polls the outbox: one stamped frame, or several stamped and copied into one buffer. The
     * event-loop mark of any frame taken is carried by the result.
     */
    private ByteBuf takeBatch() {
        ByteBuf first = pollOutbox();
        if (first == null) {
            return null;
        }
        boolean viaLoop = FrameCodec.takeViaEventLoopMark(first);
        stamp(first);
        ByteBuf next = outbox.peek();
        if (next == null || first.readableBytes() + next.readableBytes() > MAX_BATCH_BYTES) {
            if (viaLoop) {
                FrameCodec.markViaEventLoop(first);
            }
            return first;
        }
        ByteBuf batch = first.alloc().ioBuffer(MAX_BATCH_BYTES);
        batch.writeBytes(first, first.readerIndex(), first.readableBytes());
        first.release();
        while ((next = outbox.peek()) != null && batch.readableBytes() + next.readableBytes() <= MAX_BATCH_BYTES) {
            ByteBuf f = pollOutbox();
            viaLoop |= FrameCodec.takeViaEventLoopMark(f);
            stamp(f);
            batch.writeBytes(f, f.readerIndex(), f.readableBytes());
            f.release();
        }
        if (viaLoop) {
            FrameCodec.markViaEventLoop(batch); // the first frame's header starts the batch
        }
        return batch;
    }

    /**
     * Under the send lock: the outbox's next frame, or null. Its bytes leave {@link #offeredBytes} before
     * a DATA frame's are added to {@link #unackedBytes}: for that moment a check counts it in neither
     * (one frame too many may pass), never in both (a sender would wait for an ack that frees nothing).
     */
    private ByteBuf pollOutbox() {
        ByteBuf f = outbox.poll();
        if (f != null) {
            offeredBytes.getAndAdd(-f.readableBytes());
        }
        return f;
    }

    /** Stamps sequence and ack; a DATA frame's duplicate goes into the replay buffer. */
    private void stamp(ByteBuf frame) {
        long ack = receivedSequence;
        lastAckSent = ack;
        receivedBytesSinceAck = 0;
        if (FrameCodec.type(frame) == FrameCodec.TYPE_DATA) {
            FrameCodec.stamp(frame, ++sendSequence, ack);
            unacked.add(frame.retainedDuplicate());
            unackedSince.add(System.nanoTime());
            unackedBytes = unackedBytes + frame.readableBytes();
            unackedCount = unacked.size();
        } else {
            FrameCodec.stamp(frame, 0, ack);
        }
    }

    /** Returns true when the frame is fully written (or dropped on a closed socket) and released. */
    private boolean writeDirect(ByteBuf frame) {
        int written;
        try {
            written = direct.write(frame);
        } catch (IOException e) {
            frame.release();
            writeFailed.accept("write failed: " + e.getMessage());
            closeDirectLocked();
            channel.close();
            return true;
        }
        if (written < 0 || written == frame.readableBytes()) {
            frame.release();
            return true;
        }
        frame.skipBytes(written);
        return false;
    }

    /** A queue of {@code long}s without boxing: the send times of the frames kept for replay. */
    static final class NanoRing {
        private long[] values = new long[64];
        private int head;
        private int size;

        void add(long v) {
            if (size == values.length) {
                long[] bigger = new long[values.length * 2];
                for (int i = 0; i < size; i++) {
                    bigger[i] = values[(head + i) & (values.length - 1)];
                }
                values = bigger;
                head = 0;
            }
            values[(head + size) & (values.length - 1)] = v;
            size++;
        }

        /** The {@code i}th value from the oldest. */
        long get(int i) {
            if (i >= size) {
                throw new IndexOutOfBoundsException(i + " of " + size);
            }
            return values[(head + i) & (values.length - 1)];
        }

        void removeFirst() {
            if (size == 0) {
                throw new java.util.NoSuchElementException();
            }
            head = (head + 1) & (values.length - 1);
            size--;
        }

        void clear() {
            head = 0;
            size = 0;
        }

        int size() {
            return size;
        }
    }
}
