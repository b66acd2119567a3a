package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection to a peer runtime, after the handshake. It carries calls in both directions.
 *
 * <p>Threading: {@link #send} may be called from any thread; frames from one thread go out in the
 * order sent. {@link #awaitWritable} blocks and must not be called on an event loop.
 */
public final class Link {

    private final Channel channel;
    private final WorkerId peer;
    private final Address peerAddress;
    private final boolean dialed;
    private final FrameSender sender;
    private final ReentrantLock writableLock = new ReentrantLock();
    private final Condition writableAgain = writableLock.newCondition();
    private volatile String closeReason;
    private volatile Object attachment;

    Link(Channel channel, WorkerId peer, Address peerAddress, boolean dialed, boolean directWrites) {
        this.channel = channel;
        this.peer = peer;
        this.peerAddress = peerAddress;
        this.dialed = dialed;
        this.sender = new FrameSender(channel, directWrites && channel instanceof EpollSocketChannel epoll
            ? DirectWriter.open(epoll.fd().intValue()) : null, this::recordCloseReason);
    }

    /** Event loop, when the channel goes inactive: closes the direct writer's descriptor. */
    void closeDirect() {
        sender.closeDirect();
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
        sender.send(frame, viaEventLoop);
    }

    /** The handler records each DATA sequence number it accepts; frames sent acknowledge it. */
    void received(long sequence) {
        sender.received(sequence);
    }

    /** True when this link's frames are written by the sending threads themselves. */
    public boolean writesDirectly() {
        return sender.writesDirectly();
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
