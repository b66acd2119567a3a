package io.jcircuit.link;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One TCP connection: the handshake, then the frames of the session it carries (see {@link Link}).
 * Runs on the channel's event loop only.
 *
 * <p>A connection is one of three kinds: accepted; dialed to open a new session; or dialed to
 * resume a session whose connection broke. Errors are kept apart by what they mean: a connection
 * that closes or goes silent starts an outage of its session, which redials; a malformed frame or
 * an unexpected one ends the session, since replaying to a peer that breaks the protocol would only
 * repeat the fault. Either way one log line says why, and no other connection is touched.
 */
final class LinkHandler extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(LinkHandler.class);

    /** DATA frames taken without sending anything back before an ACK frame goes out on its own. */
    private static final int ACK_EVERY = 32;
    /**
     * DATA bytes taken without sending anything back before an ACK frame goes out on its own: a small
     * part of any replay limit (64 MiB by default), so that a sender that waits for room is not held
     * until the next heartbeat brings an ack.
     */
    private static final long ACK_EVERY_BYTES = 256 * 1024;

    private enum State { AWAIT_HELLO, AWAIT_WELCOME, OPEN, CLOSED }

    private final LinkTransport transport;
    private final WorkerId expectedPeer;
    private final CompletableFuture<Link> dialed;    // a dial that opens a session
    private final Link resuming;                     // a dial that resumes one
    private final CompletableFuture<Void> resumed;
    private final long sessionId;
    private State state;
    private Link link;
    private WorkerId dialer;
    private Channel channel;
    private ScheduledFuture<?> handshakeTimer;
    private int silentTicks;
    /** How many times this connection looked whether its peer fell silent (a heartbeat with nothing read); for tests. */
    private volatile long idleChecks;
    private String lossReason;
    /** A PING came in this read burst; one PONG answers them all at its end ({@link #channelReadComplete}). */
    private boolean pongOwed;

    /** An accepting handler. */
    LinkHandler(LinkTransport transport) {
        this(transport, null, null, null, null, 0, State.AWAIT_HELLO);
    }

    /** A handler that dials a new session and completes {@code dialed} when the handshake is done. */
    LinkHandler(LinkTransport transport, WorkerId expectedPeer, CompletableFuture<Link> dialed) {
        this(transport, expectedPeer, dialed, null, null, newSessionId(), State.AWAIT_WELCOME);
    }

    /** A handler that resumes {@code link} and completes {@code resumed} once it carries it. */
    LinkHandler(LinkTransport transport, Link link, CompletableFuture<Void> resumed) {
        this(transport, link.peer(), null, link, resumed, link.sessionId(), State.AWAIT_WELCOME);
    }

    private LinkHandler(LinkTransport transport, WorkerId expectedPeer, CompletableFuture<Link> dialed,
                        Link resuming, CompletableFuture<Void> resumed, long sessionId, State state) {
        this.transport = transport;
        this.expectedPeer = expectedPeer;
        this.dialed = dialed;
        this.resuming = resuming;
        this.resumed = resumed;
        this.sessionId = sessionId;
        this.state = state;
    }

    private static long newSessionId() {
        long id;
        do {
            id = ThreadLocalRandom.current().nextLong();
        } while (id == 0);
        return id;
    }

    Channel channel() {
        return channel;
    }

    /** The worker that dialed this connection. */
    WorkerId dialer() {
        return dialer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        int timeoutMs = transport.config().connectTimeoutMs();
        handshakeTimer = ctx.executor().schedule(
            () -> protocolError(ctx, "no handshake within " + timeoutMs + " ms", true), timeoutMs, TimeUnit.MILLISECONDS);
        if (state == State.AWAIT_WELCOME) {
            ByteBuf hello = FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_HELLO, 64);
            long received = resuming == null ? 0 : resuming.receivedSequence();
            new Handshake(transport.self(), expectedPeer == null ? 0 : expectedPeer.value(), sessionId, received,
                resuming != null, transport.address()).writeTo(hello);
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
            silentTicks = 0;
            switch (state) {
                case AWAIT_HELLO -> onHello(ctx, type, frame);
                case AWAIT_WELCOME -> onWelcome(ctx, type, frame);
                case OPEN -> {
                    link.acked(FrameCodec.ack(frame));
                    handedOff = onOpenFrame(ctx, type, frame);
                }
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

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.OPEN && link.current() == this) {
            answerPings(ctx);
            link.ackIfOwed(ACK_EVERY, ACK_EVERY_BYTES);
        }
        ctx.fireChannelReadComplete();
    }

    /**
     * One PONG for all the PINGs of a read burst, and none while the connection cannot take more: a
     * PING only asks for something to come back, and the frames already queued do that once the peer
     * reads them. A peer that floods PINGs and reads nothing would otherwise queue a PONG per PING in
     * this process, without bound, while this side keeps reading.
     */
    private void answerPings(ChannelHandlerContext ctx) {
        if (pongOwed) {
            pongOwed = false;
            if (ctx.channel().isWritable()) {
                link.send(FrameCodec.finish(FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_PONG, 0)), true);
            }
        }
    }

    private void onHello(ChannelHandlerContext ctx, byte type, ByteBuf frame) {
        if (type != FrameCodec.TYPE_HELLO) {
            throw new CorruptedFrameException("expected HELLO, got frame type " + type);
        }
        Handshake hello = Handshake.readFrom(FrameCodec.skipHeader(frame));
        if (hello.expectedPeer() != 0 && hello.expectedPeer() != transport.self().value()) {
            reject(ctx, Handshake.REJECT_WRONG_PEER, "this address is served by worker " + transport.self()
                + ", not " + new WorkerId(hello.expectedPeer()));
            return;
        }
        String impostor = certificateMismatch(ctx, hello.sender());
        if (impostor != null) {
            reject(ctx, Handshake.REJECT_PROTOCOL, impostor);
            transport.badPeerLog().closed("connection from " + ctx.channel().remoteAddress(), impostor);
            return;
        }
        if (hello.sender().equals(transport.self())) {
            reject(ctx, Handshake.REJECT_PROTOCOL, "worker " + transport.self() + " will not link to itself");
            return;
        }
        dialer = hello.sender();
        Link session;
        long received;
        if (!hello.resume()) {
            session = transport.newSession(hello.sender(), hello.address(), hello.session(), false, ctx.channel().eventLoop());
            if (session == null) {
                reject(ctx, Handshake.REJECT_PROTOCOL, "session " + Long.toHexString(hello.session()) + " exists already");
                return;
            }
            received = 0;
        } else {
            session = transport.session(hello.sender(), hello.session());
            if (session == null) {
                reject(ctx, Handshake.REJECT_UNKNOWN_SESSION, "worker " + transport.self() + " has no session with "
                    + hello.sender() + " any more: it ended (the outage limit passed or the link was closed)");
                return;
            }
            received = session.receivedSequence();
        }
        ByteBuf welcome = FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_WELCOME, 64);
        new Handshake(transport.self(), 0, hello.session(), received, false, transport.address()).writeTo(welcome);
        FrameCodec.finish(welcome);
        handshakeTimer.cancel(false);
        link = session;
        state = State.OPEN;
        if (!session.connect(this, dialer, hello.received(), welcome)) {
            reject(ctx, Handshake.REJECT_DUPLICATE, "session already has a connection, which both sides keep");
            return;
        }
        handshakeDone(ctx);
        if (!hello.resume()) {
            transport.listener().onLinkUp(session);
        }
    }

    private void onWelcome(ChannelHandlerContext ctx, byte type, ByteBuf frame) {
        if (type == FrameCodec.TYPE_REJECT) {
            ByteBuf payload = FrameCodec.skipHeader(frame);
            byte code = payload.isReadable() ? payload.readByte() : Handshake.REJECT_PROTOCOL;
            String reason = payload.toString(StandardCharsets.UTF_8);
            state = State.CLOSED;
            failDial(new LinkRejectedException(reason, code != Handshake.REJECT_DUPLICATE));
            ctx.close();
            return;
        }
        if (type != FrameCodec.TYPE_WELCOME) {
            throw new CorruptedFrameException("expected WELCOME, got frame type " + type);
        }
        Handshake welcome = Handshake.readFrom(FrameCodec.skipHeader(frame));
        if (expectedPeer != null && !expectedPeer.equals(welcome.sender())) {
            state = State.CLOSED;
            failDial(new LinkRejectedException("this address is served by worker " + welcome.sender() + ", not " + expectedPeer));
            ctx.close();
            return;
        }
        String impostor = certificateMismatch(ctx, welcome.sender());
        if (impostor != null) {
            throw new CorruptedFrameException(impostor);
        }
        if (welcome.session() != sessionId) {
            throw new CorruptedFrameException("WELCOME names session " + Long.toHexString(welcome.session())
                + ", not " + Long.toHexString(sessionId));
        }
        handshakeTimer.cancel(false);
        dialer = transport.self();
        state = State.OPEN;
        handshakeDone(ctx);
        if (resuming != null) {
            link = resuming;
            if (!resuming.connect(this, dialer, welcome.received(), null)) {
                state = State.CLOSED; // the session has a connection both sides prefer
                ctx.close();
            }
            resumed.complete(null);
            return;
        }
        Link session = transport.newSession(welcome.sender(), welcome.address(), sessionId, true, ctx.channel().eventLoop());
        if (session == null) {
            throw new CorruptedFrameException("session " + Long.toHexString(sessionId) + " exists already");
        }
        link = session;
        session.connect(this, dialer, welcome.received(), null);
        transport.listener().onLinkUp(session);
        dialed.complete(session);
    }

    /**
     * The handshake is done: frames up to the configured limit may come from now on (see {@link FrameDecoder}),
     * and an accepted connection no longer counts against the bound on those waiting for it.
     */
    private void handshakeDone(ChannelHandlerContext ctx) {
        transport.handshakeDone(ctx.channel());
        FrameDecoder frames = ctx.pipeline().get(FrameDecoder.class);
        if (frames != null) {
            frames.handshakeDone();
        }
    }

    /** Returns true when the frame was handed to the listener, which then owns it. */
    private boolean onOpenFrame(ChannelHandlerContext ctx, byte type, ByteBuf frame) {
        switch (type) {
            case FrameCodec.TYPE_DATA -> {
                return link.deliver(this, frame);
            }
            case FrameCodec.TYPE_PING -> pongOwed = true; // answered at the end of the read burst
            case FrameCodec.TYPE_PONG, FrameCodec.TYPE_ACK -> { }
            case FrameCodec.TYPE_BYE -> {
                state = State.CLOSED;
                link.peerSaidBye(this, FrameCodec.skipHeader(frame).toString(StandardCharsets.UTF_8));
                ctx.close();
            }
            default -> throw new CorruptedFrameException("unexpected frame type " + type + " after the handshake");
        }
        return false;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
            if (state == State.OPEN && link.current() == this) {
                idleChecks++; // only the event loop writes it
                LinkConfig c = transport.config();
                if (link.isReadingPaused()) {
                    // We are not reading, so we hear nothing; our PINGs tell the peer we are alive.
                    silentTicks = 0;
                } else {
                    silentTicks++;
                }
                if ((long) silentTicks * c.heartbeatIntervalMs() >= c.silenceLimitMs()) {
                    lossReason = "nothing heard from the peer for " + c.silenceLimitMs() + " ms";
                    ctx.close();
                } else {
                    link.send(FrameCodec.finish(FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_PING, 0)), true);
                }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** How many heartbeats found nothing read on this connection while it was open and current; for tests. */
    long idleChecks() {
        return idleChecks;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (link != null) {
            link.signalWritabilityChanged();
            if (state == State.OPEN && link.current() == this && ctx.channel().isWritable()) {
                link.ackIfOwed(ACK_EVERY, ACK_EVERY_BYTES); // one held back while the connection could not take it
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        String reason = root.getMessage() == null ? root.toString() : root.getMessage();
        if (root instanceof io.netty.handler.ssl.NotSslRecordException) {
            reason = "the peer sent bytes that are not TLS to a runtime with a cluster key: a runtime without the key"
                + " does (give both sides the same key, or neither), and so does anything that is no runtime";
        } else if (root instanceof javax.net.ssl.SSLException && state != State.OPEN) {
            // Judged here, on the exception, and not on the text later: a link handshake's own refusal (a
            // certificate that names another worker) speaks of certificates too, and is no TLS failure.
            io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
            LOG.debug("connection with {}: the TLS handshake failed: {}", ctx.channel().remoteAddress(), reason);
            reason = TlsRefusal.describe(root, ssl != null && ssl.handshakeFuture().isSuccess());
        }
        // After the handshakes, TLS fails only over bytes changed on the way (a record that fails its check,
        // which anyone on the path can cause, as a reset can): the connection is lost, and the session, whose
        // frames go again over a new one, is not. What the peer's frames say, once decrypted, is its own.
        boolean inTransit = root instanceof javax.net.ssl.SSLException && state == State.OPEN;
        if (inTransit) {
            reason = "a TLS record failed its check (" + reason + "): the bytes were changed on the way";
        }
        if (!inTransit && (cause instanceof DecoderException || cause instanceof CorruptedFrameException)) {
            protocolError(ctx, reason);
        } else {
            // An I/O error (reset, broken pipe): the connection is gone, the session is not.
            lossReason = reason;
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        State was = state;
        state = State.CLOSED;
        String stopped = transport.whyStopped();
        String where = "connection to " + ctx.channel().remoteAddress() + " closed during the handshake";
        failDial(new HandshakeFailedException(stopped != null ? where + ": " + stopped
            : where + (lossReason != null ? " (" + lossReason + ")" : "") + "; does the peer run with the same cluster"
                + " key as this side (" + (transport.config().tls() != null ? "it has one" : "it has none") + ")? (A peer"
                + " with more connections waiting for their handshake than it allows closes one of them and says so in"
                + " its log)"));
        if (was == State.OPEN) {
            link.connectionLost(this, lossReason != null ? lossReason
                : stopped != null ? stopped : "connection closed by the peer");
        }
        ctx.fireChannelInactive();
    }

    /** With TLS: null when the peer's certificate names {@code claimed}, else why not. */
    private String certificateMismatch(ChannelHandlerContext ctx, WorkerId claimed) {
        LinkTls tls = transport.config().tls();
        if (tls == null) {
            return null;
        }
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        String name;
        try {
            name = tls.authenticatedName(ssl);
        } catch (RuntimeException e) {
            return "no authenticated certificate: " + e.getMessage();
        }
        return claimed.toString().equals(name) ? null
            : "the peer's certificate names '" + name + "' but its handshake claims worker " + claimed;
    }

    private void failDial(Throwable cause) {
        if (dialed != null) {
            dialed.completeExceptionally(cause);
        }
        if (resumed != null) {
            resumed.completeExceptionally(cause);
        }
    }

    private void reject(ChannelHandlerContext ctx, byte code, String reason) {
        state = State.CLOSED;
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        ByteBuf reject = FrameCodec.begin(ctx.alloc(), FrameCodec.TYPE_REJECT, 128);
        Handshake.writeReject(reject, code, reason);
        ctx.writeAndFlush(FrameCodec.finish(reject)).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * A frame broke the protocol: closes this connection, and ends its session (replaying to a peer
     * that breaks the protocol would only repeat the fault). Logs the reason once.
     */
    void protocolError(ChannelHandlerContext ctx, String reason) {
        protocolError(ctx, reason, false);
    }

    /** As {@link #protocolError(ChannelHandlerContext, String)}; {@code silent}: the peer said nothing in time. */
    private void protocolError(ChannelHandlerContext ctx, String reason, boolean silent) {
        if (state == State.CLOSED && !ctx.channel().isActive()) {
            return;
        }
        State was = state;
        state = State.CLOSED;
        String who = link != null ? link.toString() : "connection with " + ctx.channel().remoteAddress();
        if (dialed != null || resumed != null) {
            LOG.debug("{} closed: {}", who, reason); // this side dialed: the dialer reports it
        } else {
            transport.badPeerLog().closed(who, reason);
        }
        String failed = "handshake with " + ctx.channel().remoteAddress() + " failed: " + reason;
        failDial(silent ? new HandshakeTimeoutException(failed) : new HandshakeFailedException(failed));
        if (was == State.OPEN && link != null) {
            link.end("protocol error: " + reason, true);
        }
        ctx.close();
    }
}
