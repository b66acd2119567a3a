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
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The link layer of one runtime: a listening socket and the connections it dials and accepts, each
 * speaking the {@link FrameCodec} protocol. It knows nothing of messages; DATA payloads go up to the
 * {@link LinkListener} as bytes.
 *
 * <p>Lifecycle: {@link #start} binds or fails with everything it opened closed again; {@link #close}
 * closes every connection and the event loops, and is idempotent.
 */
public final class LinkTransport implements AutoCloseable {

    /** Flushes held back at most, while a read is in progress, before one is let through. */
    private static final int MAX_FLUSH_BATCH = 256;

    private final LinkConfig config;
    private final WorkerId self;
    private final LinkListener listener;
    private final MultiThreadIoEventLoopGroup group;
    private final boolean epoll;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Every open connection, so that close() ends them all (a stopped event loop does not). */
    private final ChannelGroup channels;
    private Channel serverChannel;
    private Address address;

    private LinkTransport(LinkConfig config, WorkerId self, LinkListener listener) {
        this.config = config;
        this.self = self;
        this.listener = listener;
        boolean epoll = config.preferEpoll() && Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
            new DefaultThreadFactory("circuit-io-" + self, true), io);
        this.epoll = epoll;
        this.channels = new DefaultChannelGroup("links-" + self, group.next());
    }

    /**
     * Binds the listening socket and returns a running transport.
     *
     * @throws java.io.UncheckedIOException naming the address when the bind fails
     */
    public static LinkTransport start(LinkConfig config, WorkerId self, LinkListener listener) {
        LinkTransport t = new LinkTransport(config, self, listener);
        try {
            t.bind();
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private void bind() {
        ServerBootstrap b = new ServerBootstrap()
            .group(group)
            .channelFactory(epoll ? EpollServerSocketChannel::new : NioServerSocketChannel::new)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
            .childHandler(initializer(null, null));
        try {
            serverChannel = b.bind(config.bindHost(), config.port()).sync().channel();
        } catch (Exception e) {
            throw new java.io.UncheckedIOException(new java.io.IOException(
                "cannot listen on " + config.bindHost() + ":" + config.port() + ": " + e.getMessage(), e));
        }
        int port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        address = new Address(config.advertisedHost(), port);
    }

    private WriteBufferWaterMark waterMark() {
        return new WriteBufferWaterMark(config.writeLowWaterBytes(), config.writeHighWaterBytes());
    }

    private ChannelInitializer<SocketChannel> initializer(WorkerId expectedPeer, CompletableFuture<Link> dialed) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                channels.add(ch);
                // Frames sent from many threads at once leave in one write: a flush is deferred to the
                // end of the event loop's current batch of tasks instead of costing a syscall each.
                ch.pipeline().addLast("flushes", new FlushConsolidationHandler(MAX_FLUSH_BATCH, true));
                ch.pipeline().addLast("frames", new FrameDecoder(config.maxFrameBytes()));
                ch.pipeline().addLast("link", dialed == null
                    ? new LinkHandler(LinkTransport.this)
                    : new LinkHandler(LinkTransport.this, expectedPeer, dialed));
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
        if (closed.get()) {
            dialed.completeExceptionally(new IllegalStateException("transport of " + self + " is closed"));
            return dialed;
        }
        new Bootstrap()
            .group(group)
            .channelFactory(epoll ? EpollSocketChannel::new : NioSocketChannel::new)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, config.connectTimeoutMs())
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
            .handler(initializer(expectedPeer, dialed))
            .connect(target.host(), target.port())
            .addListener(f -> {
                if (!f.isSuccess()) {
                    dialed.completeExceptionally(f.cause());
                }
            });
        return dialed;
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

    LinkListener listener() {
        return listener;
    }

    /** Whether the native epoll transport is in use. */
    public boolean isEpoll() {
        return epoll;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
