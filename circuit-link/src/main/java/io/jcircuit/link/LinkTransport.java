package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The link layer of one runtime: a listening socket and the connections it dials and accepts, each
 * speaking the {@link FrameCodec} protocol. It knows nothing of messages; DATA payloads go up to the
 * {@link LinkListener} as bytes.
 *
 * <p>Each pair of runtimes talks over sessions ({@link Link}) that outlive their TCP connections;
 * the transport keeps them by peer and session number so that a RESUME handshake finds its session.
 * With a {@link LinkTls} every connection speaks mutual TLS 1.3 first, and the frame decoder sees
 * only what arrives after the peer has authenticated.
 *
 * <p>An accepted connection is anyone's until its handshake is done; at most
 * {@link LinkConfig#maxPendingConnections} wait at once, and one more closes the oldest of them that
 * has sent nothing yet, or the oldest of all when each has ({@link PendingConnections} says why).
 *
 * <p>Lifecycle: {@link #start} binds or fails with everything it opened closed again; {@link #close}
 * says goodbye on every session, closes every connection and the event loops, and is idempotent.
 */
public final class LinkTransport implements AutoCloseable {

    /** Flushes held back at most, while a read is in progress, before one is let through. */
    private static final int MAX_FLUSH_BATCH = 256;

    private final LinkConfig config;
    private final WorkerId self;
    private final LinkListener listener;
    private final MultiThreadIoEventLoopGroup group;
    /** The event loop for threads that poll to run themselves, or {@link LoopShare#NONE}. */
    private final LoopShare loopShare;
    private final boolean epoll;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Every open connection, so that close() ends them all (a stopped event loop does not). */
    private final ChannelGroup channels;
    private final ConcurrentHashMap<SessionKey, Link> sessions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> localAddresses = new ConcurrentHashMap<>();
    /** Warnings about connections closed over bad input, rate-limited for this transport. */
    private final BadPeerLog badPeerLog = new BadPeerLog(org.slf4j.LoggerFactory.getLogger(LinkHandler.class));
    /** Accepted connections whose handshake is not done, at most {@link LinkConfig#maxPendingConnections}. */
    private final PendingConnections pending;
    /**
     * Dials not yet over, so that a shared loop that fails can fail them: its connect futures' listeners would
     * have run on that loop, which takes no task once it stopped.
     */
    private final java.util.Set<CompletableFuture<?>> dialing = ConcurrentHashMap.newKeySet();

    private Channel serverChannel;
    private Address address;

    private LinkTransport(LinkConfig config, WorkerId self, LinkListener listener) {
        this.config = config;
        this.self = self;
        this.listener = listener;
        boolean epoll = config.preferEpoll() && Epoll.isAvailable();
        DefaultThreadFactory threads = new DefaultThreadFactory("circuit-io-" + self, true);
        if (epoll && config.sharedLoop() && config.ioThreads() == 1 && config.spinMicros() > 0) {
            this.group = new SharedLoops(threads, TimeUnit.MICROSECONDS.toNanos(config.spinMicros()));
            this.loopShare = new LoopShare((SharedIoEventLoop) group.next());
        } else {
            this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(), threads,
                SpinningSelect.ioHandlers(epoll, config.spinMicros()));
            this.loopShare = LoopShare.NONE;
        }
        this.epoll = epoll;
        this.channels = new DefaultChannelGroup("links-" + self, group.next());
        this.pending = new PendingConnections(config.maxPendingConnections(), new BadPeerLog(
            org.slf4j.LoggerFactory.getLogger(LinkHandler.class), "while too many waited for their handshake"));
        if (loopShare.shared()) {
            loopShare.loop().terminationFuture().addListener(f -> {
                if (!f.isSuccess()) {
                    loopFailed(f.cause());
                }
            });
        }
    }

    /**
     * The shared loop's driver failed, and the loop stopped with its connections closed: every session ends
     * now, so that the layer above learns of it (its calls fail rather than wait for links that cannot come
     * back), and the transport takes no more dials.
     */
    private void loopFailed(Throwable cause) {
        if (closed.get()) {
            failDials(); // those a close that raced the failure left
            return;
        }
        String reason = "the event loop of " + self + " failed: " + cause;
        for (Link link : links()) {
            try {
                link.close(reason);
            } catch (RuntimeException e) {
                // one link that cannot close must not keep the others open
                org.slf4j.LoggerFactory.getLogger(LinkTransport.class)
                    .warn("link {} did not close after the event loop failed", link, e);
            }
        }
        failDials();
    }

    /** Fails the dials not yet over: once the loop has stopped, nothing else would complete them. */
    private void failDials() {
        if (dialing.isEmpty()) {
            return;
        }
        String why = whyStopped();
        IllegalStateException stopped = new IllegalStateException(why != null ? why : loopStopped().getMessage());
        for (CompletableFuture<?> dial : dialing) {
            dial.completeExceptionally(stopped);
        }
    }

    /**
     * Why a connection of this transport closed on its own side, when it did because the transport closed or
     * its event loop stopped; null while both run.
     */
    String whyStopped() {
        if (closed.get()) {
            return "transport of " + self + " is closed";
        }
        return group.isShuttingDown() ? loopStopped().getMessage() : null;
    }

    private IllegalStateException loopStopped() {
        Throwable failure = loopShare.shared() ? loopShare.loop().failure() : null;
        return new IllegalStateException("the event loop of " + self + " has stopped"
            + (failure != null ? " after its driver failed: " + failure : ""));
    }

    /** One {@link SharedIoEventLoop}, driven by a thread of {@code threads} while nobody else holds it. */
    private static final class SharedLoops extends MultiThreadIoEventLoopGroup {
        SharedLoops(java.util.concurrent.ThreadFactory threads, long spinNanos) {
            super(1, threads, io.netty.channel.epoll.EpollIoHandler.newFactory(), spinNanos);
        }

        @Override
        protected io.netty.channel.IoEventLoop newChild(java.util.concurrent.Executor executor,
                                                        IoHandlerFactory handlers, Object... args) {
            return new SharedIoEventLoop(this, executor, handlers, (Long) args[0]);
        }
    }

    /**
     * The transport's event loop for a thread that polls for a message to run itself, when the transport
     * shares it ({@link LinkConfig#sharedLoop}); else {@link LoopShare#NONE}.
     */
    public LoopShare loopShare() {
        return loopShare;
    }

    /**
     * Binds the listening socket and returns a running transport.
     *
     * @throws java.io.UncheckedIOException naming the address when the bind fails
     * @throws IllegalArgumentException when the bind address is beyond loopback without TLS or
     *                                  {@link LinkConfig#insecure()}
     */
    public static LinkTransport start(LinkConfig config, WorkerId self, LinkListener listener) {
        config.checkExposure();
        LinkTransport t = new LinkTransport(config, self, listener);
        try {
            t.bind();
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** How often the event loop notes that it runs ({@link #stalledNanos}). */
    private static final long TICK_MILLIS = 250;
    /** A gap between ticks longer than this is a stall, not a late tick. */
    private static final long STALL_NANOS = 1_000_000_000L;
    /** How long after a stall frames read are taken to have waited through it: the buffered input is read by then. */
    private static final long AFTER_STALL_NANOS = 100_000_000L;
    /** When the event loop last noted that it runs. */
    private volatile long lastTickNanos = System.nanoTime();
    /** The last stall the tick saw, as it ended: its length, and when it ended (0: none yet). */
    private volatile long lastStallNanos;
    private volatile long lastStallEndedNanos;

    /** Event loop: notes that it runs, and a stall it ran late by. */
    private void tick() {
        long now = System.nanoTime();
        long gap = now - lastTickNanos;
        if (gap > STALL_NANOS) {
            lastStallNanos = gap;
            lastStallEndedNanos = now;
        }
        lastTickNanos = now;
    }

    /**
     * How long this process has just been stalled, or 0: the time since the event loop last ran its tick,
     * when that is more than a second (the process was stopped, paused by the collector, or starved of
     * CPU), or such a stall that ended less than 100 ms ago (a stopped process that is continued has its
     * {@code epoll_wait} interrupted, and the loop runs its tasks, the tick among them, before it reads).
     * Frames read right after a stall may have waited that long in the socket, unread: a request's time
     * left, which its caller counted from when it sent it, is short by as much. A request sent right after
     * the stall is taken for one that waited too, which costs it only when its deadline is shorter than
     * the stall. Read on the event loop, as frames are read; {@code now} is {@link System#nanoTime}.
     */
    public long stalledNanos(long now) {
        long gap = now - lastTickNanos;
        if (gap > STALL_NANOS) {
            return gap;
        }
        long ended = lastStallEndedNanos;
        return ended != 0 && now - ended < AFTER_STALL_NANOS ? lastStallNanos + (now - ended) : 0;
    }

    private void bind() {
        group.next().scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        ServerBootstrap b = new ServerBootstrap()
            .group(group)
            .channelFactory(epoll ? EpollServerSocketChannel::new : NioServerSocketChannel::new)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
            .childHandler(initializer(null));
        try {
            serverChannel = b.bind(config.bindHost(), config.port()).sync().channel();
        } catch (Exception e) {
            String message = "cannot listen on " + config.bindHost() + ":" + config.port() + ": " + e.getMessage();
            throw new java.io.UncheckedIOException(message, new java.io.IOException(message, e)); // the message as is, not "java.io.IOException: ..."
        }
        int port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        address = new Address(config.advertisedHost(), config.advertisedPort() != 0 ? config.advertisedPort() : port);
    }

    private WriteBufferWaterMark waterMark() {
        return new WriteBufferWaterMark(config.writeLowWaterBytes(), config.writeHighWaterBytes());
    }

    private ChannelInitializer<SocketChannel> initializer(java.util.function.Supplier<LinkHandler> handler) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                channels.add(ch);
                if (handler == null) {
                    pending.accepted(ch); // until the peer has shown who it is (LinkHandler#handshakeDone)
                    ch.pipeline().addLast("first-bytes", pending.firstBytesOf(ch)); // ahead of TLS and the frames
                }
                LinkHandler link = handler == null ? new LinkHandler(LinkTransport.this) : handler.get();
                if (config.tls() != null) {
                    // First in line: nothing reaches the frame decoder before the peer has shown a
                    // certificate issued from this cluster's key.
                    SslHandler ssl = config.tls().newHandler(ch, handler != null);
                    ssl.setHandshakeTimeoutMillis(config.connectTimeoutMs());
                    ch.pipeline().addLast("tls", ssl);
                }
                // Frames sent from many threads at once leave in one write: a flush is deferred to the
                // end of the event loop's current batch of tasks instead of costing a syscall each.
                ch.pipeline().addLast("flushes", new FlushConsolidationHandler(MAX_FLUSH_BATCH, true));
                ch.pipeline().addLast("frames", new FrameDecoder(config.maxFrameBytes(), badPeerLog));
                ch.pipeline().addLast("idle", new IdleStateHandler(false,
                    config.heartbeatIntervalMs(), 0, 0, TimeUnit.MILLISECONDS));
                ch.pipeline().addLast("link", link);
            }
        };
    }

    /**
     * Dials {@code target} and completes with the link once the handshake is done. When
     * {@code expectedPeer} is given and another worker answers, the future fails with
     * {@link LinkRejectedException}. Never blocks; the future fails within the connect timeout.
     */
    public CompletableFuture<Link> dial(Address target, WorkerId expectedPeer) {
        CompletableFuture<Link> dialed = new CompletableFuture<>();
        connect(target, group, () -> new LinkHandler(this, expectedPeer, dialed), dialed, config.connectTimeoutMs());
        return dialed;
    }

    /** Dials the peer of {@code link} again to resume it; completes once the attempt is over. */
    CompletableFuture<Void> redial(Link link) {
        CompletableFuture<Void> resumed = new CompletableFuture<>();
        connect(link.peerAddress(), group, () -> new LinkHandler(this, link, resumed), resumed, config.redialConnectTimeoutMs());
        return resumed;
    }

    private void connect(Address target, io.netty.channel.EventLoopGroup loops,
                         java.util.function.Supplier<LinkHandler> handler, CompletableFuture<?> result, int timeoutMs) {
        if (closed.get()) {
            result.completeExceptionally(new IllegalStateException("transport of " + self + " is closed"));
            return;
        }
        // counted before the loop's state is read: a loop that fails after this check fails the dial in loopFailed
        dialing.add(result);
        result.whenComplete((r, e) -> dialing.remove(result));
        if (loops.isShuttingDown()) {
            // a loop that stopped does not run the connect's listener either
            result.completeExceptionally(loopStopped());
            return;
        }
        new Bootstrap()
            .group(loops)
            .channelFactory(epoll ? EpollSocketChannel::new : NioSocketChannel::new)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMs)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
            .handler(initializer(handler))
            .connect(target.host(), target.port())
            .addListener(f -> {
                if (!f.isSuccess()) {
                    result.completeExceptionally(f.cause());
                }
            });
    }

    /** A session's key: the peer and the number its first dialer drew. */
    private record SessionKey(WorkerId peer, long session) {
        // written out: a record's generated equals and hashCode are linked through method handles at their
        // first call, which spins classes in every JVM's start (docs/performance.md)
        @Override
        public boolean equals(Object o) {
            return o instanceof SessionKey k && k.session == session && k.peer.equals(peer);
        }

        @Override
        public int hashCode() {
            return 31 * peer.hashCode() + Long.hashCode(session);
        }
    }

    /** Registers a new session, or returns null when one with that key exists. */
    Link newSession(WorkerId peer, Address peerAddress, long session, boolean dialed, EventLoop loop) {
        Link link = new Link(this, peer, peerAddress, session, dialed, loop);
        return sessions.putIfAbsent(new SessionKey(peer, session), link) == null ? link : null;
    }

    Link session(WorkerId peer, long session) {
        return sessions.get(new SessionKey(peer, session));
    }

    /** The session has ended; a RESUME for it will be refused. */
    void forget(Link link) {
        sessions.remove(new SessionKey(link.peer(), link.sessionId()), link);
    }

    /**
     * The layer above has learned from elsewhere (membership) that {@code peer} is gone. A session
     * between connections ends now: its outage will not end. A connected session carries on, as its
     * peer may well run (only its ZooKeeper session expired, say); it ends when its connection is lost
     * if nothing has come from the peer since this call (a host that died whole leaves ZooKeeper before
     * the link's silence limit notices), and otherwise redials as usual, up to the outage limit. A
     * peer heard from after it left has outlived its entry, so the entry's end says nothing of its death.
     */
    public void peerGone(WorkerId peer, String reason) {
        for (Link link : links()) {
            if (link.peer().equals(peer)) {
                link.peerLeft(reason);
            }
        }
    }

    /** Undoes {@link #peerGone}: the peer is back (it filed itself again, say after a ZooKeeper blip). */
    public void peerBack(WorkerId peer) {
        for (Link link : links()) {
            if (link.peer().equals(peer)) {
                link.peerBack();
            }
        }
    }

    /**
     * True when {@code host} is an address of this machine. A refused connection to such an address
     * comes from this machine's own kernel, and means that nothing listens there any more; a refusal
     * from across a network may come from a firewall, and means nothing certain.
     */
    boolean isLocalAddress(String host) {
        return localAddresses.computeIfAbsent(host, h -> {
            try {
                java.net.InetAddress a = java.net.InetAddress.getByName(h);
                return a.isLoopbackAddress() || a.isAnyLocalAddress() || java.net.NetworkInterface.getByInetAddress(a) != null;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** The open sessions, for operators and tests. */
    public List<Link> links() {
        return new ArrayList<>(sessions.values());
    }

    ByteBufAllocator alloc() {
        return serverChannel != null ? serverChannel.alloc() : ByteBufAllocator.DEFAULT;
    }

    /**
     * No session, open now or later, hands the layer above another DATA frame: the first step of a close
     * that lets the requests already handed up be answered before the goodbyes, which then say exactly
     * which frames went up ({@link Link#stopDelivering}). Idempotent; there is no going back.
     */
    public void stopDelivering() {
        deliveryStopped = true;
        for (Link link : links()) {
            link.stopDelivering();
        }
    }

    /** True once {@link #stopDelivering} was called. */
    boolean deliveryStopped() {
        return deliveryStopped;
    }

    private volatile boolean deliveryStopped;

    boolean isClosed() {
        return closed.get();
    }

    public Address address() {
        return address;
    }

    public WorkerId self() {
        return self;
    }

    LinkConfig config() {
        return config;
    }

    /** {@code channel}'s link handshake is done: if this side accepted it, it no longer counts as pending. */
    void handshakeDone(Channel channel) {
        pending.done(channel);
    }

    /** How many accepted connections wait for their handshake now; for tests. */
    int pendingConnections() {
        return pending.size();
    }

    /** Of {@link #pendingConnections}, how many have sent their first bytes (tests). */
    int pendingSpoken() {
        return pending.spokenSize();
    }

    BadPeerLog badPeerLog() {
        return badPeerLog;
    }

    LinkListener listener() {
        return listener;
    }

    /** Whether the native epoll transport is in use. */
    public boolean isEpoll() {
        return epoll;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException on a thread that runs this transport's event loop (a handler, or a thread
     *                               that holds its {@link #loopShare}): the close waits for that loop to stop
     */
    @Override
    public void close() {
        if (closed.get()) {
            return;
        }
        checkClosableHere();
        stopDelivering();
        for (Link link : links()) {
            link.close("runtime " + self + " is closing");
        }
        shutDown();
    }

    /**
     * Throws {@link IllegalStateException} on a thread that runs this transport's event loop, where
     * {@link #close} would wait for itself; an owner that closes more than its transport asks first, so as
     * to refuse before it closed anything.
     */
    public void checkClosableHere() {
        for (io.netty.util.concurrent.EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                throw new IllegalStateException("transport of " + self
                    + " cannot be closed on a thread that runs its event loop; let go of the loop first");
            }
        }
    }

    /** Stops like a killed process: no goodbyes, sockets closed, port released. For tests. */
    void closeAbruptlyForTest() {
        shutDown();
    }

    private void shutDown() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(); // fails at once if the loop has stopped: it closed it
        }
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        if (loopShare.shared()) {
            // its driver closes the loop's own descriptors after the loop has terminated
            loopShare.loop().driverDone().awaitUninterruptibly();
        }
        // a dial that passed the checks just before the loop stopped: its connect listener was refused by it
        failDials();
    }
}
