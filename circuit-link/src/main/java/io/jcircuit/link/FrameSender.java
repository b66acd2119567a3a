package io.jcircuit.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;

import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The sending half of a {@link Link}.
 *
 * <p>Frames go into an outbox; whichever sender holds the send lock drains it, stamping each frame's
 * sequence number and writing it, so the order on the wire is the order of stamps, and frames that
 * arrive while another thread writes leave with its batch. On epoll the draining thread writes to
 * the socket itself ({@link DirectWriter}) while nothing waits in Netty's queue; what the socket does
 * not take at once, and every frame after it until that queue drains, goes through the event loop.
 * The lock is held across non-blocking writes only. Frames sent from the event loop itself are
 * queued as loop tasks too, never written inline, so they cannot pass frames stamped before them.
 */
final class FrameSender {

    /** Frames that wait together are copied into one write of at most this many bytes. */
    private static final int MAX_BATCH_BYTES = 64 * 1024;

    private final Channel channel;
    private final DirectWriter direct; // guarded by sendLock
    private final Consumer<String> closeReason;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ConcurrentLinkedQueue<ByteBuf> outbox = new ConcurrentLinkedQueue<>();
    /** Frames handed to Netty and not yet written; direct writes wait until this is zero. */
    private final AtomicInteger queuedOnLoop = new AtomicInteger();
    private final ChannelFutureListener drained = f -> queuedOnLoop.decrementAndGet();
    private long sendSequence; // guarded by sendLock
    private volatile long receivedSequence;

    FrameSender(Channel channel, DirectWriter direct, Consumer<String> closeReason) {
        this.channel = channel;
        this.direct = direct;
        this.closeReason = closeReason;
    }

    boolean writesDirectly() {
        return direct != null;
    }

    void received(long sequence) {
        receivedSequence = sequence;
    }

    void send(ByteBuf frame, boolean viaEventLoop) {
        if (viaEventLoop) {
            FrameCodec.markViaEventLoop(frame);
        }
        outbox.offer(frame);
        // The holder of the lock may take our frame with its batch; if not, we drain it ourselves.
        // Blocking (not spinning) on the lock: on one CPU a spinner would starve the holder.
        while (!outbox.isEmpty()) {
            sendLock.lock();
            try {
                drainOutbox();
            } finally {
                sendLock.unlock();
            }
        }
    }

    /** Event loop, when the channel goes inactive. */
    void closeDirect() {
        if (direct != null) {
            sendLock.lock();
            try {
                direct.close();
            } finally {
                sendLock.unlock();
            }
        }
    }

    /** Under the send lock: stamps and writes everything in the outbox, batching what is there. */
    private void drainOutbox() {
        ByteBuf batch;
        while ((batch = takeBatch()) != null) {
            boolean viaLoop = FrameCodec.takeViaEventLoopMark(batch);
            if (direct != null && !viaLoop && queuedOnLoop.get() == 0 && writeDirect(batch)) {
                continue;
            }
            if (channel.eventLoop().isShuttingDown()) {
                // The transport is closing: the frame could not go out, and a failed write would
                // only log that its listener cannot be notified any more.
                batch.release();
                continue;
            }
            queuedOnLoop.incrementAndGet();
            if (channel.eventLoop().inEventLoop()) {
                // Written inline here, the frame would overtake write tasks that other threads
                // queued earlier with lower sequence numbers; queue it behind them instead.
                ByteBuf queued = batch;
                channel.eventLoop().execute(() -> channel.writeAndFlush(queued).addListener(drained));
            } else {
                // Netty queues this behind earlier writes; if the loop has stopped, it releases the
                // frame and fails the promise rather than throwing.
                channel.writeAndFlush(batch).addListener(drained);
            }
        }
    }

    /** Polls the outbox: one stamped frame, or several stamped and copied into one buffer. */
    private ByteBuf takeBatch() {
        ByteBuf first = outbox.poll();
        if (first == null) {
            return null;
        }
        stamp(first);
        ByteBuf next = outbox.peek();
        if (next == null || first.readableBytes() + next.readableBytes() > MAX_BATCH_BYTES) {
            return first;
        }
        ByteBuf batch = first.alloc().ioBuffer(MAX_BATCH_BYTES);
        boolean viaLoop = FrameCodec.takeViaEventLoopMark(first);
        batch.writeBytes(first);
        first.release();
        while ((next = outbox.peek()) != null && batch.readableBytes() + next.readableBytes() <= MAX_BATCH_BYTES) {
            ByteBuf f = outbox.poll();
            stamp(f);
            viaLoop |= FrameCodec.takeViaEventLoopMark(f);
            batch.writeBytes(f);
            f.release();
        }
        if (viaLoop) {
            FrameCodec.markViaEventLoop(batch); // the first frame's header starts the batch
        }
        return batch;
    }

    private void stamp(ByteBuf frame) {
        long seq = FrameCodec.type(frame) == FrameCodec.TYPE_DATA ? ++sendSequence : 0;
        FrameCodec.stamp(frame, seq, receivedSequence);
    }

    /** Returns true when the frame is fully written (or dropped on a closed socket) and released. */
    private boolean writeDirect(ByteBuf frame) {
        int written;
        try {
            written = direct.write(frame);
        } catch (IOException e) {
            frame.release();
            closeReason.accept("write failed: " + e.getMessage());
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

}
