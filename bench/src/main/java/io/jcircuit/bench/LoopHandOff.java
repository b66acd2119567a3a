package io.jcircuit.bench;

import io.jcircuit.link.CpuYield;
import io.jcircuit.link.PollingLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandler;
import io.netty.channel.ManualIoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A measurement, in raw Netty with nothing of JCircuit's but its way of yielding the CPU, of who should run a
 * client's event loop while a caller waits for its answer: the ways of docs/performance.md ("The leader/follower
 * loop: a driver that sleeps without the loop"). An echo server in one JVM answers on its event loop or on a call
 * thread ({@link #SERVER_MODES}); a client in another sends 64-byte messages one at a time on one connection and
 * times each round trip.
 *
 * <ul>
 *   <li>{@code handoff}: a loop thread of Netty's reads the answer and unparks the caller, which polled for it
 *       50 µs first, yielding the CPU, as JCircuit's callers do today ({@link CpuYield}: {@code sched_yield} in a
 *       virtual thread, whose own yield would not let the loop's thread run);</li>
 *   <li>{@code takeover}: a driver thread runs the loop, asleep in it while idle; a waiting caller asks for the
 *       loop (a flag and a wake-up), runs it until its answer is in and gives it back;</li>
 *   <li>{@code asleep}: the driver sleeps on an epoll set of its own that watches the loop's epoll descriptor
 *       (one-shot), without holding the loop. A caller takes the free loop with a compare-and-set, takes the
 *       watch out of the driver's set, blocks in the loop until its answer is in, lets go and puts the watch
 *       back. {@code asleep-armed} leaves the watch in the set while a caller holds the loop; {@code asleep-poll}
 *       runs the loop without blocking for 50 µs at most, then lets go and parks until the driver hands the answer
 *       over, as a virtual thread would have to (blocking in {@code epoll_wait} would hold its carrier);</li>
 *   <li>{@code owner}: the caller owns the loop outright and blocks in it; no driver, so nothing reads while
 *       no caller waits. The floor the others are measured against.</li>
 * </ul>
 *
 * <p>The owner of a {@link ManualIoEventLoop} and the descriptor of an {@link EpollIoHandler} are private in
 * Netty 4.2; this scratch measurement reaches them by reflection, which a runtime must not. Linux only.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp "circuit-cli/target/circuit-cli.jar:circuit-cli/target/lib/*" io.jcircuit.bench.LoopHandOff
 * [--pinned] [--virtual] [--server inline|handoff|asleep-poll] [--modes m,m...] [--runs R] [--round-trips N]};
 * {@code --pinned} runs both JVMs under {@code taskset -c 0}, {@code --virtual} makes the caller a virtual thread,
 * {@code --server} chooses how the server answers and {@code --modes} which client modes are measured.
 */
public final class LoopHandOff {

    /** The ways a client's loop can be run, in the order they are measured. */
    static final List<String> MODES = List.of("handoff", "takeover", "asleep", "asleep-armed", "asleep-poll", "owner");
    /**
     * How the echo server answers: {@code inline} on its event loop; {@code handoff} as JCircuit's server does
     * today, its loop polling 50 µs after work and handing each message to a lingering call thread (virtual,
     * polling 50 µs after its last message) that writes the answer straight to the socket; {@code asleep-poll}
     * with the loop of {@code asleep-poll} above, which the call thread holds and polls while it lingers, and
     * whose driver hands it what arrives while it does not.
     */
    static final List<String> SERVER_MODES = List.of("inline", "handoff", "asleep-poll");

    private static final int SIZE = 64;
    /** Rounds per client JVM; the first warms it up and is not reported. */
    private static final int ROUNDS = 3;
    /** How long a caller polls before it parks, in {@code handoff} and {@code asleep-poll}: JCircuit's default budget. */
    private static final long POLL_NANOS = 50_000;
    private static final long CHILD_TIMEOUT_MS = 300_000;

    private LoopHandOff() {
    }

    public static void main(String[] args) throws Exception {
        boolean pinned = false;
        boolean virtual = false;
        String serverMode = "inline";
        List<String> modes = MODES;
        int runs = 2;
        int roundTrips = 50_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pinned" -> pinned = true;
                case "--virtual" -> virtual = true;
                case "--server" -> serverMode = oneOf(SERVER_MODES, args, ++i);
                case "--modes" -> modes = subset(MODES, args, ++i);
                case "--runs" -> runs = positive(args, ++i);
                case "--round-trips" -> roundTrips = positive(args, ++i);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                    + "; usage: LoopHandOff [--pinned] [--virtual] [--server " + String.join("|", SERVER_MODES)
                    + "] [--modes m,m...] [--runs R] [--round-trips N]");
            }
        }
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("this measurement needs Netty's epoll transport: " + Epoll.unavailabilityCause());
        }
        System.out.printf("round trip p50 of rounds 2 and 3 of %d, µs; %s; the caller a %s thread; the server %s;"
                + " modes in turn, %d runs%n", roundTrips, pinned ? "both JVMs under taskset -c 0" : "unpinned",
            virtual ? "virtual" : "platform", serverMode, runs);
        try (ChildJvm server = ChildJvm.start("loop-handoff-server", pinned, EchoServer.class, List.of(serverMode))) {
            String port = server.awaitLine("BENCH-PORT ", CHILD_TIMEOUT_MS).strip();
            for (int run = 1; run <= runs; run++) {
                for (String mode : modes) {
                    try (ChildJvm client = ChildJvm.start("loop-handoff-client", pinned, Client.class,
                        List.of(mode, port, Integer.toString(roundTrips), virtual ? "virtual" : "platform"))) {
                        System.out.printf("run %d  %-13s %s%n", run, mode, client.awaitLine("BENCH-RESULT ", CHILD_TIMEOUT_MS));
                    }
                }
            }
        }
    }

    /** The value at {@code args[i]} of the option before it, one of {@code allowed}. */
    private static String oneOf(List<String> allowed, String[] args, int i) {
        if (i >= args.length || !allowed.contains(args[i])) {
            throw new IllegalArgumentException(args[i - 1] + " takes one of " + allowed
                + (i < args.length ? ", not " + args[i] : ""));
        }
        return args[i];
    }

    /** The comma-separated values at {@code args[i]}, each one of {@code allowed}. */
    private static List<String> subset(List<String> allowed, String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " takes a comma-separated list of " + allowed);
        }
        List<String> out = List.of(args[i].split(","));
        for (String m : out) {
            if (!allowed.contains(m)) {
                throw new IllegalArgumentException(args[i - 1] + " takes values of " + allowed + ", not " + m);
            }
        }
        return out;
    }

    /** The positive number at {@code args[i]}, the value of the option before it. */
    private static int positive(String[] args, int i) {
        String option = args[i - 1];
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a number after it");
        }
        try {
            int n = Integer.parseInt(args[i]);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(option + " takes a positive number, not " + args[i]);
    }

    /** Echoes what it reads in the way its argument names ({@link #SERVER_MODES}). Prints its port, and exits when its stdin ends. */
    public static final class EchoServer {
        public static void main(String[] args) {
            PrintStream protocol = ChildStdio.claimStdout();
            try (AutoCloseable echo = args.length == 0 || args[0].equals("inline") ? Echo.start() : CallThreadEcho.start(args[0])) {
                int port = echo instanceof Echo e ? e.port() : ((CallThreadEcho) echo).port();
                protocol.println("BENCH-PORT " + port);
                protocol.flush();
                ChildStdio.awaitStdinEnd();
            } catch (Exception e) {
                throw new IllegalStateException("the echo server failed", e);
            }
        }
    }

    /** An epoll server on loopback whose every connection gets a handler from {@code handlers}; its loop is the caller's to set. */
    private static ServerBootstrap serverBootstrap(java.util.function.Supplier<ChannelInboundHandlerAdapter> handlers) {
        return new ServerBootstrap().channel(EpollServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel c) {
                    c.pipeline().addLast(handlers.get());
                }
            });
    }

    /** An echo server on loopback that answers on its one event loop. */
    record Echo(EventLoopGroup group, Channel server, int port) implements AutoCloseable {
        static Echo start() {
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            Channel server = serverBootstrap(() -> new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.write(msg);
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                    ctx.flush();
                }
            }).group(group).bind("127.0.0.1", 0).syncUninterruptibly().channel();
            return new Echo(group, server, ((java.net.InetSocketAddress) server.localAddress()).getPort());
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }

    /** An echo server on loopback whose answers a call thread writes, as JCircuit's server does ({@link #SERVER_MODES}). */
    static final class CallThreadEcho implements AutoCloseable {
        private static final int MSG_NOSIGNAL = 0x4000;

        private final java.util.Queue<Object[]> requests = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final Thread callThread;
        private final EventLoopGroup group;
        private final ManualIoEventLoop manual;
        private final AsleepDriver driver;
        private final Channel server;
        private final MethodHandle send;
        private volatile boolean closing;

        private CallThreadEcho(String mode) {
            Linker linker = Linker.nativeLinker();
            this.send = linker.downcallHandle(linker.defaultLookup().find("send").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            ServerBootstrap b = serverBootstrap(() -> new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    received(ctx, (ByteBuf) msg);
                }
            });
            this.callThread = Thread.ofVirtual().name("call-thread").unstarted(this::linger);
            if (mode.equals("handoff")) {
                this.group = new MultiThreadIoEventLoopGroup(1, PollingLoops.epoll((int) (POLL_NANOS / 1_000)));
                this.manual = null;
                this.driver = null;
                this.server = b.group(group).bind("127.0.0.1", 0).syncUninterruptibly().channel();
            } else {
                this.group = null;
                this.manual = new ManualIoEventLoop(null, null, EpollIoHandler.newFactory());
                this.driver = new AsleepDriver(manual, true);
                ChannelFuture bound = b.group(manual).bind("127.0.0.1", 0);
                driver.start();
                this.server = bound.syncUninterruptibly().channel();
            }
            callThread.start();
        }

        static CallThreadEcho start(String mode) {
            if (!SERVER_MODES.contains(mode) || mode.equals("inline")) {
                throw new IllegalArgumentException("a call thread's server is one of handoff, asleep-poll; not " + mode);
            }
            return new CallThreadEcho(mode);
        }

        int port() {
            return ((java.net.InetSocketAddress) server.localAddress()).getPort();
        }

        boolean callThreadAlive() {
            return callThread.isAlive();
        }

        /** On whichever thread runs the loop: the call thread answers at once, any other hands the message over. */
        private void received(ChannelHandlerContext ctx, ByteBuf msg) {
            if (Thread.currentThread() == callThread) {
                ctx.writeAndFlush(msg); // it holds the loop: written inline
            } else {
                requests.add(new Object[] {ctx, msg});
                LockSupport.unpark(callThread);
            }
        }

        /** The call thread: answers what it is handed, and polls for the next for 50 µs after each. */
        private void linger() {
            while (!closing) {
                if (driver != null) {
                    driver.take();
                }
                long lastBusy = System.nanoTime();
                while (System.nanoTime() - lastBusy < POLL_NANOS) {
                    Object[] r = requests.poll();
                    if (r != null) {
                        answer((ChannelHandlerContext) r[0], (ByteBuf) r[1]);
                        lastBusy = System.nanoTime();
                    } else if (driver != null && manual.runNow() > 0) {
                        lastBusy = System.nanoTime(); // it read, and answered inline
                    } else {
                        CpuYield.yieldCpu();
                    }
                }
                if (driver != null) {
                    driver.give();
                }
                while (requests.isEmpty() && !closing) {
                    LockSupport.park();
                }
            }
        }

        private void answer(ChannelHandlerContext ctx, ByteBuf msg) {
            if (driver != null) {
                ctx.writeAndFlush(msg); // the call thread holds the loop here
                return;
            }
            // JCircuit's call threads write straight to the socket, not through the event loop
            int fd = ((EpollSocketChannel) ctx.channel()).fd().intValue();
            if (!msg.hasMemoryAddress()) {
                msg.release();
                throw new IllegalStateException("the echo server's buffers have no memory address (Netty without Unsafe)");
            }
            try {
                MemorySegment bytes = MemorySegment.ofAddress(msg.memoryAddress() + msg.readerIndex()).reinterpret(msg.readableBytes());
                long left = msg.readableBytes();
                while (left > 0) {
                    long sent = (long) send.invokeExact(fd, bytes.asSlice(bytes.byteSize() - left), left, MSG_NOSIGNAL);
                    if (sent <= 0) {
                        throw new IllegalStateException("send failed on descriptor " + fd);
                    }
                    left -= sent;
                }
            } catch (Throwable t) {
                throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
            } finally {
                msg.release();
            }
        }

        @Override
        public void close() {
            closing = true;
            LockSupport.unpark(callThread);
            try {
                callThread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (group != null) {
                server.close().syncUninterruptibly();
                group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
                return;
            }
            driver.stop();
            driver.owner.set(Thread.currentThread());
            Connection.runUntil(manual, server.close());
            Connection.runUntil(manual, manual.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS));
            driver.closed();
        }
    }

    /** Times round trips in one {@link #MODES mode}; prints the p50 of each round after the first. */
    public static final class Client {
        public static void main(String[] args) throws Exception {
            PrintStream protocol = ChildStdio.claimStdout();
            ChildStdio.exitWhenStdinEnds();
            String mode = args[0];
            int port = Integer.parseInt(args[1]);
            int n = Integer.parseInt(args[2]);
            boolean virtual = args.length > 3 && args[3].equals("virtual");
            AtomicReference<String> result = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Runnable rounds = () -> {
                try (Connection c = Connection.open(mode, port)) {
                    StringBuilder r = new StringBuilder();
                    for (int round = 1; round <= ROUNDS; round++) {
                        long p50 = c.p50Nanos(n);
                        if (round > 1) {
                            r.append(String.format(Locale.ROOT, "%.1f ", p50 / 1e3));
                        }
                    }
                    result.set(r.append(c.describe()).toString().strip());
                } catch (Throwable t) {
                    failure.set(t);
                }
            };
            // the caller, and in the modes where it owns the loop from the start its owner, is this thread
            (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).name("caller").start(rounds).join();
            if (failure.get() != null) {
                throw new IllegalStateException("mode " + mode + " failed", failure.get());
            }
            protocol.println("BENCH-RESULT " + result.get());
            protocol.flush();
            System.exit(0);
        }
    }

    /** One client connection to the echo server, its loop run in one of the {@link #MODES}. */
    static final class Connection implements AutoCloseable {
        private final String mode;
        private final Reader reader;
        private final Channel channel;
        /** Netty's loop thread ({@code handoff}), else null. */
        private final EventLoopGroup group;
        /** The loop that callers run (every mode but {@code handoff}), else null. */
        private final ManualIoEventLoop manual;
        /** The loop's driver ({@code takeover}, {@code asleep}, {@code asleep-armed}), else null. */
        private final Driver driver;

        private Connection(String mode, Reader reader, Channel channel, EventLoopGroup group, ManualIoEventLoop manual,
                           Driver driver) {
            this.mode = mode;
            this.reader = reader;
            this.channel = channel;
            this.group = group;
            this.manual = manual;
            this.driver = driver;
        }

        static Connection open(String mode, int port) throws Exception {
            Reader reader = new Reader();
            Bootstrap b = new Bootstrap().channel(EpollSocketChannel.class).option(ChannelOption.TCP_NODELAY, true).handler(reader);
            switch (mode) {
                case "handoff" -> {
                    EventLoopGroup g = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
                    return new Connection(mode, reader, b.group(g).connect("127.0.0.1", port).sync().channel(), g, null, null);
                }
                case "owner" -> {
                    ManualIoEventLoop loop = new ManualIoEventLoop(Thread.currentThread(), EpollIoHandler.newFactory());
                    ChannelFuture f = b.group(loop).connect("127.0.0.1", port);
                    runUntil(loop, f);
                    return new Connection(mode, reader, f.sync().channel(), null, loop, null);
                }
                case "takeover", "asleep", "asleep-armed", "asleep-poll" -> {
                    ManualIoEventLoop loop = new ManualIoEventLoop(null, null, EpollIoHandler.newFactory());
                    Driver d = mode.equals("takeover") ? new TakeOverDriver(loop) : new AsleepDriver(loop, !mode.equals("asleep-armed"));
                    ChannelFuture f = b.group(loop).connect("127.0.0.1", port);
                    d.start();
                    return new Connection(mode, reader, f.sync().channel(), null, loop, d);
                }
                default -> throw new IllegalArgumentException("unknown mode " + mode + "; one of " + MODES);
            }
        }

        private static void runUntil(ManualIoEventLoop loop, io.netty.util.concurrent.Future<?> f) {
            while (!f.isDone()) {
                loop.run(1_000_000);
            }
        }

        /** Times {@code n} round trips and returns their p50. */
        long p50Nanos(int n) {
            long[] t = new long[n];
            reader.caller = Thread.currentThread();
            for (int i = 0; i < n; i++) {
                long target = reader.received + SIZE;
                long start = System.nanoTime();
                ByteBuf msg = channel.alloc().directBuffer(SIZE).writeZero(SIZE);
                switch (mode) {
                    case "handoff" -> {
                        channel.writeAndFlush(msg);
                        long end = System.nanoTime() + POLL_NANOS;
                        while (reader.received < target && System.nanoTime() < end) {
                            CpuYield.yieldCpu();
                        }
                        while (reader.received < target) {
                            LockSupport.park();
                        }
                    }
                    case "owner" -> {
                        channel.writeAndFlush(msg);
                        while (reader.received < target) {
                            manual.run(1_000_000_000L);
                        }
                    }
                    case "asleep-poll" -> {
                        driver.take();
                        channel.writeAndFlush(msg);
                        long end = System.nanoTime() + POLL_NANOS;
                        while (reader.received < target && System.nanoTime() < end) {
                            if (manual.runNow() == 0) {
                                CpuYield.yieldCpu();
                            }
                        }
                        driver.give();
                        while (reader.received < target) {
                            LockSupport.park(); // the driver reads it and hands it over
                        }
                    }
                    default -> {
                        driver.take();
                        channel.writeAndFlush(msg);
                        while (reader.received < target) {
                            manual.run(1_000_000_000L);
                        }
                        driver.give();
                    }
                }
                t[i] = System.nanoTime() - start;
            }
            Arrays.sort(t);
            return t[n / 2];
        }

        String describe() {
            return driver == null ? "" : driver.describe();
        }

        /** Closes the connection and ends its loop and driver. */
        @Override
        public void close() {
            if (group != null) {
                channel.close().syncUninterruptibly();
                group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
                return;
            }
            if (driver != null) {
                driver.stop();
                driver.owner.set(Thread.currentThread());
            }
            runUntil(manual, channel.close());
            runUntil(manual, manual.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS));
            if (driver != null) {
                driver.closed();
            }
        }
    }

    /** Counts the bytes echoed back and wakes the caller. */
    static final class Reader extends ChannelInboundHandlerAdapter {
        volatile long received;
        volatile Thread caller;

        @Override
        public boolean isSharable() {
            return true;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            received += b.readableBytes();
            b.release();
            Thread c = caller;
            if (c != null && c != Thread.currentThread()) {
                LockSupport.unpark(c);
            }
        }
    }

    /** Runs a {@link ManualIoEventLoop} while no caller does, and lets a waiting caller have it. */
    abstract static class Driver {
        final ManualIoEventLoop loop;
        /** The loop's owner, which Netty sets only once through its API. */
        final AtomicReference<Thread> owner;
        final AtomicBoolean held = new AtomicBoolean();
        volatile long turns;
        volatile boolean stopping;
        private Thread thread;

        @SuppressWarnings("unchecked")
        Driver(ManualIoEventLoop loop) {
            this.loop = loop;
            this.owner = (AtomicReference<Thread>) privateField(ManualIoEventLoop.class, "owningThread", loop);
        }

        abstract void start();

        /** Takes the loop for the calling thread. */
        abstract void take();

        /** Gives the loop back. */
        abstract void give();

        String describe() {
            return "driver turns " + turns;
        }

        final void startThread(Runnable body) {
            thread = Thread.ofPlatform().daemon().name("loop-driver").start(body);
        }

        /** Ends the driver's thread and takes the loop from it for good. */
        final void stop() {
            stopping = true;
            loop.wakeup();
            LockSupport.unpark(thread);
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the loop's driver ended", e);
            }
            if (!held.compareAndSet(false, true)) {
                throw new IllegalStateException("the loop is still held by a caller; stop the driver once callers are done");
            }
        }

        /** After the loop ended: frees what the driver holds of its own. */
        void closed() {
        }
    }

    /** The driver sleeps in the loop, holding it; a caller asks for it and waits until the driver lets go. */
    static final class TakeOverDriver extends Driver {
        private volatile boolean wanted;
        private volatile Thread driverThread;

        TakeOverDriver(ManualIoEventLoop loop) {
            super(loop);
        }

        @Override
        void start() {
            startThread(() -> {
                driverThread = Thread.currentThread();
                while (!stopping) {
                    if (!wanted && held.compareAndSet(false, true)) {
                        owner.set(Thread.currentThread());
                        loop.run(1_000_000L);
                        turns++;
                        owner.set(null);
                        held.set(false);
                    }
                    if (wanted && !stopping) {
                        LockSupport.park();
                    }
                }
            });
        }

        @Override
        void take() {
            wanted = true;
            loop.wakeup();
            while (!held.compareAndSet(false, true)) {
                Thread.yield();
            }
            owner.set(Thread.currentThread());
        }

        @Override
        void give() {
            owner.set(null);
            held.set(false);
            wanted = false;
            LockSupport.unpark(driverThread);
        }
    }

    /**
     * The driver sleeps on an epoll set of its own that watches the loop's epoll descriptor, one-shot, and
     * runs the loop only when it fires and the loop is free. A caller that holds the loop takes the watch out
     * ({@code disarm}); whoever lets the loop go puts it back.
     */
    static final class AsleepDriver extends Driver {
        private static final int EPOLL_CTL_ADD = 1;
        private static final int EPOLL_CTL_MOD = 3;
        private static final int EPOLLIN = 0x1;
        private static final int EPOLLONESHOT = 1 << 30;
        /** {@code struct epoll_event} is packed on x86-64: a 32-bit mask and 64 bits of data. Elsewhere it is not. */
        private static final long EVENT_SIZE = 12;
        static final boolean X86_64 = System.getProperty("os.arch").equals("amd64");

        private final Epoll3 epoll = new Epoll3();
        private final boolean disarm;
        private final int outer;
        private final int inner;
        private final MemorySegment armed;
        private final MemorySegment unarmed;
        private final MemorySegment events;
        private volatile long wokenForNothing;

        AsleepDriver(ManualIoEventLoop loop, boolean disarm) {
            super(loop);
            if (!X86_64) {
                throw new IllegalStateException("the epoll_event layout here is x86-64's; this JVM runs on " + System.getProperty("os.arch"));
            }
            this.disarm = disarm;
            IoHandler handler = (IoHandler) privateField(ManualIoEventLoop.class, "handler", loop);
            this.inner = ((FileDescriptor) privateField(EpollIoHandler.class, "epollFd", handler)).intValue();
            Arena arena = Arena.ofAuto();
            this.armed = arena.allocate(EVENT_SIZE);
            this.armed.set(ValueLayout.JAVA_INT, 0, EPOLLIN | EPOLLONESHOT);
            this.unarmed = arena.allocate(EVENT_SIZE);
            this.events = arena.allocate(EVENT_SIZE * 4);
            this.outer = epoll.create();
            epoll.ctl(outer, EPOLL_CTL_ADD, inner, armed);
        }

        @Override
        void start() {
            startThread(() -> {
                while (!stopping) {
                    int ready = epoll.await(outer, events, 4, 100);
                    if (held.compareAndSet(false, true)) {
                        owner.set(Thread.currentThread());
                        loop.runNow();
                        turns++;
                        owner.set(null);
                        held.set(false);
                        epoll.ctl(outer, EPOLL_CTL_MOD, inner, armed);
                    } else if (ready > 0) {
                        wokenForNothing++; // the holder puts the watch back when it lets go
                    }
                }
            });
        }

        @Override
        void take() {
            while (!held.compareAndSet(false, true)) {
                CpuYield.yieldCpu(); // a driver's turn does not block; on one CPU it needs the CPU to end
            }
            if (disarm) {
                epoll.ctl(outer, EPOLL_CTL_MOD, inner, unarmed);
            }
            owner.set(Thread.currentThread());
        }

        @Override
        void give() {
            owner.set(null);
            held.set(false);
            epoll.ctl(outer, EPOLL_CTL_MOD, inner, armed);
        }

        @Override
        String describe() {
            return super.describe() + ", woken for nothing " + wokenForNothing;
        }

        @Override
        void closed() {
            epoll.close(outer);
        }
    }

    /** {@code epoll_create1}, {@code epoll_ctl} and {@code epoll_wait} from libc. */
    static final class Epoll3 {
        private final MethodHandle create;
        private final MethodHandle ctl;
        private final MethodHandle await;
        private final MethodHandle close;

        Epoll3() {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            create = linker.downcallHandle(libc.find("epoll_create1").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            ctl = linker.downcallHandle(libc.find("epoll_ctl").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            await = linker.downcallHandle(libc.find("epoll_wait").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            close = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        }

        void close(int fd) {
            try {
                int rc = (int) close.invokeExact(fd);
                if (rc != 0) {
                    throw new IllegalStateException("close(" + fd + ") failed");
                }
            } catch (Throwable t) {
                throw rethrown(t);
            }
        }

        int create() {
            try {
                int fd = (int) create.invokeExact(0);
                if (fd < 0) {
                    throw new IllegalStateException("epoll_create1 failed");
                }
                return fd;
            } catch (Throwable t) {
                throw rethrown(t);
            }
        }

        void ctl(int epfd, int op, int fd, MemorySegment event) {
            try {
                if ((int) ctl.invokeExact(epfd, op, fd, event) != 0) {
                    throw new IllegalStateException("epoll_ctl(" + op + ") failed");
                }
            } catch (Throwable t) {
                throw rethrown(t);
            }
        }

        int await(int epfd, MemorySegment events, int max, int timeoutMs) {
            try {
                return (int) await.invokeExact(epfd, events, max, timeoutMs);
            } catch (Throwable t) {
                throw rethrown(t);
            }
        }

        private static RuntimeException rethrown(Throwable t) {
            return t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** A private field of Netty's, read for this measurement only. */
    private static Object privateField(Class<?> owner, String name, Object of) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f.get(of);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(owner.getName() + " has no field " + name + " in this version of Netty;"
                + " this measurement reads it by reflection", e);
        }
    }

    /** For tests: each mode's p50 in nanoseconds over {@code roundTrips}, and what its driver did, measured in this JVM. */
    static List<String> measureHere(int port, int roundTrips, List<String> modes) throws Exception {
        List<String> out = new ArrayList<>();
        for (String mode : modes) {
            try (Connection c = Connection.open(mode, port)) {
                out.add((mode + " " + c.p50Nanos(roundTrips) + " " + c.describe()).strip());
            }
        }
        return out;
    }
}
