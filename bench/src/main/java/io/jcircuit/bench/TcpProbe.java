package io.jcircuit.bench;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/** The floor: raw TCP with 64-byte messages against {@link TcpEchoServer}, on the client side. */
final class TcpProbe {

    static final int MESSAGE_BYTES = 64;
    /**
     * The pipelined writer's buffer, the JDK's default for a BufferedOutputStream. Each 64-byte message
     * goes into it, so the kernel sees writes of this size: the most one writer thread can push, which
     * is what a floor is. One write() per message would measure system calls instead, and gives many
     * times fewer messages per second unpinned.
     */
    private static final int WRITE_BUFFER_BYTES = 8 * 1024;
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(30);

    private TcpProbe() {
    }

    /**
     * Ping-pong on one blocking socket, one request in flight: write 64 bytes, read 64 back. Returns
     * the round trips in nanoseconds, sorted.
     */
    static long[] roundTrips(int port, Plan plan) throws Exception {
        try (Socket s = connect(port)) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] msg = new byte[MESSAGE_BYTES];
            byte[] back = new byte[MESSAGE_BYTES];
            return Loops.roundTrips(() -> {
                out.write(msg);
                if (in.readNBytes(back, 0, MESSAGE_BYTES) != MESSAGE_BYTES) {
                    throw new IOException("the TCP echo server closed the connection");
                }
            }, plan.warmupMs(), plan.rttSamples());
        }
    }

    /**
     * Pipelined 64-byte messages on one connection: one thread writes them as fast as it can (through
     * a {@value #WRITE_BUFFER_BYTES}-byte buffer), another reads the echoes and counts bytes. Returns
     * echoed messages per second over the plan's measuring window.
     */
    static double pipelinedMessagesPerSecond(int port, Plan plan) throws Exception {
        try (Socket s = connect(port)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            LongAdder echoedBytes = new LongAdder();
            Thread reader = Thread.ofPlatform().name("tcp-pipelined-reader")
                .start(() -> readAll(s, echoedBytes, failure));
            Thread writer = Thread.ofPlatform().name("tcp-pipelined-writer")
                .start(() -> writeUntil(s, stop, failure));
            double bytesPerSecond;
            try {
                bytesPerSecond = Loops.perSecond(echoedBytes::sum, plan.warmupMs(), plan.measureMs());
            } finally {
                stop.set(true);
                if (!writer.join(DRAIN_GRACE) || !reader.join(DRAIN_GRACE)) {
                    throw new BenchException("pipelined TCP did not drain within " + DRAIN_GRACE);
                }
            }
            if (failure.get() != null) {
                throw new BenchException("pipelined TCP failed: " + failure.get(), failure.get());
            }
            return bytesPerSecond / MESSAGE_BYTES;
        }
    }

    /** Writes messages until {@code stop}, then half-closes so that the echo server ends the stream. */
    private static void writeUntil(Socket s, AtomicBoolean stop, AtomicReference<Throwable> failure) {
        try {
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), WRITE_BUFFER_BYTES);
            byte[] msg = new byte[MESSAGE_BYTES];
            while (!stop.get()) {
                out.write(msg);
            }
            out.flush();
            s.shutdownOutput();
        } catch (IOException e) {
            fail(s, failure, e);
        }
    }

    private static void readAll(Socket s, LongAdder echoedBytes, AtomicReference<Throwable> failure) {
        try {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                echoedBytes.add(n);
            }
        } catch (IOException e) {
            fail(s, failure, e);
        }
    }

    /** Records the first failure and closes the socket, which unblocks the other thread. */
    private static void fail(Socket s, AtomicReference<Throwable> failure, IOException e) {
        if (failure.compareAndSet(null, e)) {
            try {
                s.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setTcpNoDelay(true);
        return s;
    }
}
