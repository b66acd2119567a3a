package io.jcircuit.link;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.ScheduledFuture;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.jcircuit.link.LinkTransportTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A transport whose event loop threads that poll may run themselves ({@link LinkConfig#sharedLoop}). */
class SharedIoEventLoopTest {

    /** Keeps each frame's text, as {@link LinkTransportTest.Recorder} does, and the thread that handed it up. */
    static final class Readers extends LinkTransportTest.Recorder {
        final BlockingQueue<Thread> readers = new LinkedBlockingQueue<>();

        @Override
        public void onData(Link link, ByteBuf frame) {
            readers.add(Thread.currentThread());
            super.onData(link, frame);
        }
    }

    private static LinkConfig shared() {
        return LinkConfig.builder().sharedLoop(true).build();
    }

    @Test
    void aThreadThatHoldsTheLoopReadsWhatArrivesItself() throws Exception {
        Readers ra = new Readers();
        Readers rb = new Readers();
        WorkerId idB = WorkerId.random();
        try (LinkTransport a = LinkTransport.start(shared(), WorkerId.random(), ra);
             LinkTransport b = LinkTransport.start(shared(), idB, rb)) {
            assertThat(a.loopShare().shared()).isTrue();
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            Link ba = rb.up.poll(5, TimeUnit.SECONDS);
            assertThat(ba).isNotNull();

            // Nobody holds b's loop: its driver reads.
            ab.send(text(ab, "to the driver"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("to the driver");
            Thread driver = rb.readers.take();
            assertThat(driver.getName()).startsWith("circuit-io-");

            // A virtual thread holds a's loop and polls it until the answer is in.
            LoopShare share = a.loopShare();
            CompletableFuture<String> got = new CompletableFuture<>();
            Thread poller = Thread.ofVirtual().start(() -> {
                boolean held = false;
                try {
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (!held && System.nanoTime() < end) {
                        held = share.tryHold(true); // the driver, polling after work, is asked to let go
                        Thread.yield();
                    }
                    assertThat(held).isTrue();
                    ba.send(text(ba, "to the poller"));
                    while (ra.data.isEmpty() && System.nanoTime() < end) {
                        share.runNow();
                        Thread.yield();
                    }
                    got.complete(ra.data.poll());
                } catch (Throwable t) {
                    got.completeExceptionally(t);
                } finally {
                    if (held) {
                        share.release();
                    }
                }
            });
            assertThat(got.get(15, TimeUnit.SECONDS)).isEqualTo("to the poller");
            assertThat(ra.readers.take()).isSameAs(poller);

            // Let go, the loop is the driver's again: frames still arrive, both ways.
            for (int i = 0; i < 100; i++) {
                ab.send(text(ab, "ab " + i));
                ba.send(text(ba, "ba " + i));
            }
            for (int i = 0; i < 100; i++) {
                assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("ab " + i);
                assertThat(ra.data.poll(5, TimeUnit.SECONDS)).isEqualTo("ba " + i);
            }
        }
    }

    @Test
    void oneThreadHoldsTheLoopAtATimeAndTimersAndTasksRunWhoeverHoldsIt() throws Exception {
        try (LinkTransport t = LinkTransport.start(shared(), WorkerId.random(), new Readers())) {
            LoopShare share = t.loopShare();
            SharedIoEventLoop loop = share.loop();
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch letGo = new CountDownLatch(1);
            CompletableFuture<Thread> task = new CompletableFuture<>();
            Thread holder = Thread.ofPlatform().start(() -> {
                while (!share.tryHold(true)) {
                    Thread.onSpinWait(); // the driver may hold it for a moment: it is asked to let go
                }
                try {
                    assertThat(loop.inEventLoop()).isTrue();
                    holding.countDown();
                    while (letGo.getCount() > 0) {
                        if (!task.isDone()) {
                            share.runNow(); // once the task ran, no more: the timer it sets is not for this thread
                        }
                        Thread.yield();
                    }
                } finally {
                    share.release();
                }
            });
            assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(share.tryHold(true)).isFalse();
            assertThat(loop.inEventLoop()).isFalse();
            assertThatThrownBy(share::runNow).isInstanceOf(IllegalStateException.class);

            CompletableFuture<Thread> timerSetByHolder = new CompletableFuture<>();
            loop.execute(() -> {
                task.complete(Thread.currentThread());
                // set on the loop, run after the holder has let go: the driver, asleep with a later timer, runs it
                loop.schedule(() -> timerSetByHolder.complete(Thread.currentThread()), 100, TimeUnit.MILLISECONDS);
            });
            assertThat(task.get(10, TimeUnit.SECONDS)).isSameAs(holder);

            letGo.countDown();
            holder.join(10_000);
            assertThat(holder.isAlive()).isFalse();
            assertThat(timerSetByHolder.get(10, TimeUnit.SECONDS).getName()).startsWith("circuit-io-");

            // Nobody holds it now: the driver runs a timer set for later, and a task queued meanwhile.
            CompletableFuture<Thread> timer = new CompletableFuture<>();
            ScheduledFuture<?> scheduled = loop.schedule(() -> timer.complete(Thread.currentThread()),
                50, TimeUnit.MILLISECONDS);
            Thread timerThread = timer.get(10, TimeUnit.SECONDS);
            assertThat(scheduled.await(10, TimeUnit.SECONDS) && scheduled.isSuccess()).isTrue();
            assertThat(timerThread.getName()).startsWith("circuit-io-");
            CompletableFuture<Thread> later = new CompletableFuture<>();
            loop.execute(() -> later.complete(Thread.currentThread()));
            assertThat(later.get(10, TimeUnit.SECONDS)).isSameAs(timerThread);
        }
    }

    @Test
    void closingWaitsForTheHolderAndThenRefusesEveryone() throws Exception {
        LinkTransport t = LinkTransport.start(shared(), WorkerId.random(), new Readers());
        LoopShare share = t.loopShare();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            while (!share.tryHold(true)) {
                Thread.onSpinWait();
            }
            holding.countDown();
            try {
                letGo.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                share.release();
            }
        });
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> closed = CompletableFuture.runAsync(t::close);
        letGo.countDown();
        closed.get(15, TimeUnit.SECONDS);
        holder.join(10_000);
        assertThat(share.loop().isTerminated()).isTrue();
        assertThat(share.tryHold(true)).isFalse();
        share.loop().driverDone().sync();
        assertThatThrownBy(() -> share.loop().execute(() -> { }))
            .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    }

    @Test
    void aTransportThatCannotShareItsLoopSaysSo() {
        try (LinkTransport t = LinkTransport.start(LinkConfig.builder().sharedLoop(true).ioThreads(2).build(),
                WorkerId.random(), new Readers());
             LinkTransport off = LinkTransport.start(LinkConfig.builder().sharedLoop(false).build(),
                WorkerId.random(), new Readers())) {
            assertThat(t.loopShare().shared()).isFalse();
            assertThat(t.loopShare().tryHold(true)).isFalse();
            assertThat(off.loopShare()).isSameAs(LoopShare.NONE);
        }
    }

    /** What a descriptor's handler throws when it is ready: an error, such as the JVM's, that nothing catches. */
    static final class Fault extends Error {
        Fault() {
            super("the test's fault in an event loop's handler");
        }
    }

    /** The read end of a pipe, whose handler throws {@link Fault} once something was written to it. */
    private record Faulty(FileDescriptor fd) implements EpollIoHandle {
        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            throw new Fault();
        }

        @Override
        public void close() {
            // the test closes the pipe
        }
    }

    @Test
    void aDriverThatFailsShutsTheLoopDownSoThatItsConnectionsCloseAndCloseReturns() throws Exception {
        Readers ra = new Readers();
        Readers rb = new Readers();
        WorkerId idB = WorkerId.random();
        LinkTransport a = LinkTransport.start(shared(), WorkerId.random(), ra);
        FileDescriptor[] pipe = FileDescriptor.pipe();
        try (LinkTransport b = LinkTransport.start(shared(), idB, rb);
             java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            Link ba = rb.up.poll(5, TimeUnit.SECONDS);
            assertThat(ba).isNotNull();
            SharedIoEventLoop loop = a.loopShare().loop();
            // a dial whose connection is up and whose handshake never ends: the peer does not speak
            CompletableFuture<Link> pending = a.dial(new Address("127.0.0.1", silent.getLocalPort()), WorkerId.random());
            silent.setSoTimeout(10_000);
            java.net.Socket mute = silent.accept();

            // Nobody holds a's loop, so its driver runs the handler that fails.
            IoRegistration registration = loop.register(new Faulty(pipe[0])).get(5, TimeUnit.SECONDS);
            registration.submit(EpollIoOps.EPOLLIN);
            ByteBuffer one = ByteBuffer.allocateDirect(1).put((byte) 1).flip();
            assertThat(pipe[1].write(one, 0, 1)).isEqualTo(1);

            assertThat(loop.terminationFuture().await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(loop.terminationFuture().cause()).isInstanceOf(Fault.class);
            assertThat(loop.driverDone().await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(loop.isTerminated()).isTrue();
            assertThat(a.loopShare().tryHold(true)).isFalse();
            assertThatThrownBy(() -> loop.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
            // its connection was closed with the loop: the peer loses it, and a's session ends, saying why
            await().atMost(Duration.ofSeconds(10)).until(() -> !ba.isConnected());
            assertThat(ra.down.poll(10, TimeUnit.SECONDS)).contains("event loop").contains("failed")
                .contains("the test's fault");
            assertThat(ab.isOpen()).isFalse();
            // the dial that was under way fails naming the loop's failure (it used to blame the cluster key)
            assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS)).hasMessageContaining("event loop")
                .hasMessageContaining("the test's fault");
            mute.close();
            // a dial fails at once, saying why
            assertThat(a.dial(b.address(), idB)).isCompletedExceptionally();
            assertThatThrownBy(() -> a.dial(b.address(), idB).join()).hasMessageContaining("has stopped after its "
                + "driver failed").hasMessageContaining("the test's fault");
            CompletableFuture.runAsync(a::close).get(15, TimeUnit.SECONDS);
        } finally {
            a.close();
            pipe[0].close();
            pipe[1].close();
        }
    }

    @Test
    void aThreadThatHoldsTheLoopCannotCloseItsTransportAndCanOnceItLetGo() throws Exception {
        LinkTransport t = LinkTransport.start(shared(), WorkerId.random(), new Readers());
        try {
            LoopShare share = t.loopShare();
            CompletableFuture<Throwable> refused = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                while (!share.tryHold(true)) {
                    Thread.onSpinWait();
                }
                try {
                    t.close(); // waits for the loop to stop: it would wait for itself
                    refused.complete(null);
                } catch (Throwable e) {
                    refused.complete(e);
                } finally {
                    share.release();
                }
            });
            assertThat(refused.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("let go of the loop first");
            assertThat(t.isClosed()).isFalse();
            CompletableFuture.runAsync(t::close).get(15, TimeUnit.SECONDS);
            assertThat(share.loop().isTerminated()).isTrue();
            assertThat(share.loop().driverDone().isDone()).as("close waits for the driver's own descriptors")
                .isTrue();
        } finally {
            t.close();
        }
    }

    @Test
    void everyTaskQueuedWhileTheLoopShutsDownRunsOrIsRefused() throws Exception {
        LinkTransport t = LinkTransport.start(shared(), WorkerId.random(), new Readers());
        SharedIoEventLoop loop = t.loopShare().loop();
        AtomicLong accepted = new AtomicLong();
        AtomicLong ran = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        // A timer set while the loop shuts down, by a task it runs then, and one set before: neither is left
        // pending.
        AtomicReference<ScheduledFuture<?>> during = new AtomicReference<>();
        Runnable task = () -> {
            ran.incrementAndGet();
            if (loop.isShuttingDown() && during.get() == null) {
                during.set(loop.schedule(() -> { }, 1, TimeUnit.HOURS));
            }
        };
        List<Thread> queuers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            queuers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try {
                        loop.execute(task);
                        accepted.incrementAndGet();
                    } catch (RejectedExecutionException refused) {
                        return;
                    }
                }
            }));
        }
        ScheduledFuture<?> before = loop.schedule(() -> { }, 1, TimeUnit.HOURS);
        await().atMost(Duration.ofSeconds(10)).until(() -> ran.get() > 1_000);
        io.netty.util.concurrent.Future<?> terminated = loop.shutdownGracefully(50, 500, TimeUnit.MILLISECONDS);
        assertThat(terminated.await(10, TimeUnit.SECONDS)).isTrue();
        stop.set(true);
        for (Thread q : queuers) {
            q.join(10_000);
        }
        assertThat(ran.get()).as("tasks run, of those accepted").isEqualTo(accepted.get());
        assertThat(before.isCancelled()).isTrue();
        assertThat((Object) during.get()).isNotNull();
        assertThat(during.get().isCancelled()).as("a timer set in the quiet period").isTrue();
        t.close();
        assertThat(loop.driverDone().isDone()).isTrue();
    }
}
