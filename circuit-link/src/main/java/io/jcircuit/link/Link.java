package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.epoll.EpollSocketChannel;

import java.util.concurrent.RejectedExecutionException;
import java.io.IOException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection to a peer runtime, after the handshake. It carries calls in both directions.
 *
 * <p>Threading: {@link #send} may be called from any thread; frames from one thread go out in the
 * order sent. {@link #awaitWritable} blocks and must not be called on an event loop.
 */
public final class Link {

    /** Frames that wait together are copied into one write of at most this many bytes. */
    private static final int MAX_BATCH_BYTES = 64 * 1024;

    private final Channel channel;
    private final WorkerId peer;
    private final Address peerAddress;
    private final boolean dialed;
    private final ReentrantLock writableLock = new ReentrantLock();
    /** Orders every frame sent after the handshake: stamping and writing happen under it. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final DirectWriter direct; // guarded by sendLock once the link is up
    /** Frames handed to Netty and not yet written; direct writes wait until this is zero. */
    private final AtomicInteger queuedOnLoop = new AtomicInteger();
    private final ChannelFutureListener drained = f -> queuedOnLoop.decrementAndGet();
    private final ConcurrentLinkedQueue<ByteBuf> outbox = new ConcurrentLinkedQueue<>();
    private long sendSequence; // guarded by sendLock
    private volatile long receivedSequence;
    private final Condition writableAgain = writableLock.newCondition();
    private volatile String closeReason;
    private volatile Object attachment;

    Link(Channel channel, WorkerId peer, Address peerAddress, boolean dialed, boolean directWrites) {
        this.channel = channel;
        this.peer = peer;
        this.peerAddress = peerAddress;
        this.dialed = dialed;
        this.direct = directWrites && channel instanceof EpollSocketChannel epoll
            ? DirectWriter.open(epoll.fd().intValue()) : null;
    }

    /** Event loop, when the channel goes inactive: closes the direct writer's descriptor. */
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

    public WorkerId peer() {
        return peer;
    }

    /** The address the peer listens on (from its handshake), not the ephemeral port it dialed from. */
    public Address peerAddress() {
        return peerAddress;
    }

    /** True when this runtime dialed the link, false when it accepted it. */
    public boolean dialed() {
        return dialed;
    }

    public ByteBufAllocator alloc() {
        return channel.alloc();
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    /** Why the link closed, once it has; {@code null} while open. */
    public String closeReason() {
        return closeReason;
    }

    /**
     * Sends a frame built with {@link FrameCodec#begin} and {@link FrameCodec#finish}. Takes
     * ownership of {@code frame}. A frame sent on a closed link is dropped; the layer above learns of
     * the closing through {@link LinkListener#onLinkDown}. Never blocks on the network.
     *
     * <p>Frames go into an outbox; whichever sender holds the send lock drains it, stamping each
     * frame's sequence number and writing it, so the order on the wire is the order of stamps, and
     * frames that arrive while another thread writes leave with its batch. On epoll the draining
     * thread writes to the socket itself while nothing waits in Netty's queue; what the socket does
     * not take at once, and every frame after it until that queue drains, goes through the event
     * loop. The lock is held across non-blocking writes only.
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

    /** Under the send lock: stamps and writes everything in the outbox, batching what is there. */
    private void drainOutbox() {
        ByteBuf batch;
        while ((batch = takeBatch()) != null) {
            try {
                boolean viaLoop = FrameCodec.takeViaEventLoopMark(batch);
                if (direct != null && !viaLoop && queuedOnLoop.get() == 0 && writeDirect(batch)) {
                    continue;
                }
                if (direct != null) {
                    queuedOnLoop.incrementAndGet();
                    channel.writeAndFlush(batch).addListener(drained);
                } else {
                    channel.writeAndFlush(batch, channel.voidPromise());
                }
            } catch (RejectedExecutionException transportStopped) {
                batch.release(); // the runtime is closing; its links go down with it
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
            recordCloseReason("write failed: " + e.getMessage());
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

    /** The handler records each DATA sequence number it accepts; frames sent acknowledge it. */
    void received(long sequence) {
        receivedSequence = sequence;
    }

    /** True when this link's frames are written by the sending threads themselves. */
    public boolean writesDirectly() {
        return direct != null;
    }

    /** True while the outbound queue is below its high-water mark. */
    public boolean isWritable() {
        return channel.isWritable();
    }

    /**
     * Waits until the outbound queue has drained below its low-water mark, the link closes, or
     * {@code deadlineNanoTime} passes. Returns whether the link is writable.
     *
     * @throws InterruptedException with the interrupt flag cleared, as usual
     */
    public boolean awaitWritable(long deadlineNanoTime) throws InterruptedException {
        if (channel.isWritable() || !channel.isActive()) {
            return channel.isWritable();
        }
        if (channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("awaitWritable would block the event loop of " + this);
        }
        writableLock.lock();
        try {
            while (!channel.isWritable() && channel.isActive()) {
                long left = deadlineNanoTime - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                writableAgain.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
            return channel.isWritable();
        } finally {
            writableLock.unlock();
        }
    }

    /** Closes the link; {@code reason} reaches the log and {@link LinkListener#onLinkDown}. */
    public void close(String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
        channel.close();
    }

    /** Stops reading from the peer (it is pushed back by TCP) until {@link #resumeReading()}. */
    public void pauseReading() {
        channel.config().setAutoRead(false);
    }

    /** Undoes {@link #pauseReading()}. */
    public void resumeReading() {
        channel.config().setAutoRead(true);
    }

    /** State the layer above keeps with this link; set once, in {@link LinkListener#onLinkUp}. */
    public void attach(Object value) {
        attachment = value;
    }

    public Object attachment() {
        return attachment;
    }

    void signalWritabilityChanged() {
        writableLock.lock();
        try {
            writableAgain.signalAll();
        } finally {
            writableLock.unlock();
        }
    }

    void recordCloseReason(String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
    }

    Channel channel() {
        return channel;
    }

    @Override
    public String toString() {
        return "link to " + peer + " at " + peerAddress + (dialed ? " (dialed)" : " (accepted)");
    }
}
