package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Per-connection state machine: handshake, then DATA, PING and BYE. Runs on the channel's event
 * loop only. Any protocol error closes this connection alone, with one log line saying why.
 */
final class LinkHandler extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(LinkHandler.class);

    private enum State { AWAIT_HELLO, AWAIT_WELCOME, OPEN, CLOSED }

    private final LinkTransport transport;
    private final WorkerId expectedPeer;
    private final CompletableFuture<Link> dialed;
    private State state;
    private Link link;
    private long receivedSequence;
    private ScheduledFuture<?> handshakeTimer;

    /** An accepting handler. */
    LinkHandler(LinkTransport transport) {
        this(transport, null, null, State.AWAIT_HELLO);
    }

    /** A dialing handler, which completes {@code dialed} when the handshake is done. */
    LinkHandler(LinkTransport transport, WorkerId expectedPeer, CompletableFuture<Link> dialed) {
        this(transport, expectedPeer, dialed, State.AWAIT_WELCOME);
    }

    private LinkHandler(LinkTransport transport, WorkerId expectedPeer, CompletableFuture<Link> dialed, State state) {
        this.transport = transport;
        this.expectedPeer = expectedPeer;
        this.dialed = dialed;
        this.state = state;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        int timeoutMs = transport.config().connectTimeoutMs();
        handshakeTimer = ctx.executor().schedule(
            () -> protocolError(ctx, "no handshake within " + timeoutMs + " ms"), timeoutMs, TimeUnit.MILLISECONDS);
        if (state == State.AWAIT_WELCOME) {
            ByteBuf hello = FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_HELLO, 64);
            new Handshake(transport.self(), expectedPeer == null ? 0 : expectedPeer.value(), transport.address()).writeTo(hello);
            ctx.writeAndFlush(FrameCodec.finish(hello));
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        boolean handedOff = false;
        try {
            byte type = FrameCodec.validate(frame);
            receivedAck(FrameCodec.ack(frame));
            switch (state) {
                case AWAIT_HELLO -> onHello(ctx, type, frame);
                case AWAIT_WELCOME -> onWelcome(ctx, type, frame);
                case OPEN -> handedOff = onOpenFrame(ctx, type, frame);
                case CLOSED -> { }
            }
        } catch (CorruptedFrameException e) {
            protocolError(ctx, e.getMessage());
        } finally {
            if (!handedOff) {
                ReferenceCountUtil.release(frame);
            }
        }
    }

    private void receivedAck(long ack) {
        // Acks matter once links replay after an outage; until then the field is carried, not used.
    }

    private void onHello(ChannelHandlerContext ctx, byte type, ByteBuf frame) {
        if (type != FrameCodec.TYPE_HELLO) {
            throw new CorruptedFrameException("expected HELLO, got frame type " + type);
        }
        Handshake hello = Handshake.readFrom(FrameCodec.skipHeader(frame));
        if (hello.expectedPeer() != 0 && hello.expectedPeer() != transport.self().value()) {
            String reason = "this address is served by worker " + transport.self() + ", not "
                + new WorkerId(hello.expectedPeer());
            ByteBuf reject = FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_REJECT, 128);
            reject.writeCharSequence(reason, StandardCharsets.UTF_8);
            ctx.writeAndFlush(FrameCodec.finish(reject)).addListener(ChannelFutureListener.CLOSE);
            state = State.CLOSED;
            return;
        }
        ByteBuf welcome = FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_WELCOME, 64);
        new Handshake(transport.self(), 0, transport.address()).writeTo(welcome);
        open(ctx, hello.sender(), hello.address(), false, FrameCodec.finish(welcome));
    }

    private void onWelcome(ChannelHandlerContext ctx, byte type, ByteBuf frame) {
        if (type == FrameCodec.TYPE_REJECT) {
            String reason = FrameCodec.skipHeader(frame).toString(StandardCharsets.UTF_8);
            state = State.CLOSED;
            dialed.completeExceptionally(new LinkRejectedException(reason));
            ctx.close();
            return;
        }
        if (type != FrameCodec.TYPE_WELCOME) {
            throw new CorruptedFrameException("expected WELCOME, got frame type " + type);
        }
        Handshake welcome = Handshake.readFrom(FrameCodec.skipHeader(frame));
        if (expectedPeer != null && !expectedPeer.equals(welcome.sender())) {
            state = State.CLOSED;
            dialed.completeExceptionally(new LinkRejectedException(
                "this address is served by worker " + welcome.sender() + ", not " + expectedPeer));
            ctx.close();
            return;
        }
        open(ctx, welcome.sender(), welcome.address(), true, null);
        dialed.complete(link);
    }

    /**
     * Opens the link. An acceptor's WELCOME goes out through the link's own sender before anyone
     * can use the link, so no frame written directly by another thread can reach the dialer first.
     */
    private void open(ChannelHandlerContext ctx, WorkerId peer, Address peerAddress, boolean wasDialed, ByteBuf welcome) {
        handshakeTimer.cancel(false);
        state = State.OPEN;
        link = new Link(ctx.channel(), peer, peerAddress, wasDialed, transport.config().directWrites());
        if (welcome != null) {
            link.send(welcome, true);
        }
        transport.listener().onLinkUp(link);
    }

    /** Returns true when the frame was handed to the listener, which then owns it. */
    private boolean onOpenFrame(ChannelHandlerContext ctx, byte type, ByteBuf frame) {
        switch (type) {
            case FrameCodec.TYPE_DATA -> {
                long seq = FrameCodec.sequence(frame);
                if (seq != receivedSequence + 1) {
                    throw new CorruptedFrameException("DATA frame out of order: sequence " + seq
                        + " after " + receivedSequence);
                }
                receivedSequence = seq;
                link.received(seq);
                transport.listener().onData(link, FrameCodec.skipHeader(frame));
                return true;
            }
            case FrameCodec.TYPE_PING -> link.send(FrameCodec.finish(FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_PONG, 0)));
            case FrameCodec.TYPE_PONG -> { }
            case FrameCodec.TYPE_BYE -> {
                link.recordCloseReason("peer said goodbye: " + FrameCodec.skipHeader(frame).toString(StandardCharsets.UTF_8));
                ctx.close();
            }
            default -> throw new CorruptedFrameException("unexpected frame type " + type + " after the handshake");
        }
        return false;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (link != null) {
            link.signalWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String reason = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        protocolError(ctx, reason);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        State was = state;
        state = State.CLOSED;
        if (dialed != null && !dialed.isDone()) {
            dialed.completeExceptionally(new java.net.ConnectException(
                "connection to " + ctx.channel().remoteAddress() + " closed during the handshake"));
        }
        if (was == State.OPEN) {
            link.closeDirect();
            if (link.closeReason() == null) {
                link.recordCloseReason("connection closed by peer");
            }
            link.signalWritabilityChanged();
            transport.listener().onLinkDown(link, link.closeReason());
        }
        ctx.fireChannelInactive();
    }

    /** Closes this connection alone, logging the reason once. */
    void protocolError(ChannelHandlerContext ctx, String reason) {
        if (state == State.CLOSED && !ctx.channel().isActive()) {
            return;
        }
        String who = link != null ? link.toString() : "connection from " + ctx.channel().remoteAddress();
        LOG.warn("{} closed: {}", who, reason);
        if (dialed != null && !dialed.isDone()) {
            dialed.completeExceptionally(new java.io.IOException("handshake with " + ctx.channel().remoteAddress() + " failed: " + reason));
        }
        if (link != null) {
            link.recordCloseReason(reason);
        }
        ctx.close();
    }
}
