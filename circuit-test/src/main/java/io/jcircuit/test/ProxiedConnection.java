package io.jcircuit.test;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client connection through a {@link FaultProxy} and its connection to the target: a reader
 * and a writer thread each way, joined by a bounded queue of chunks stamped with the time they were
 * read. The reader applies a blackhole (it discards); the writer applies the rest of the mode
 * (it waits out a delay, discards in a blackhole, holds an end of stream through one).
 *
 * <pre>
 *   client ─► up reader ─► queue ─► up writer ─► target
 *   client ◄─ down writer ◄─ queue ◄─ down reader ◄─ target
 * </pre>
 *
 * The "up" thread first dials the target, then starts the three others and becomes the up reader.
 */
final class ProxiedConnection {

    private static final Logger LOG = LoggerFactory.getLogger(ProxiedConnection.class);
    private static final int CHUNK_BYTES = 16 * 1024;
    /** With {@link #CHUNK_BYTES}, at most 1 MiB waits inside the proxy each way; then the reader stops reading. */
    private static final int QUEUE_CHUNKS = 64;
    private static final int CONNECT_TIMEOUT_MS = 5_000;

    /** Bytes read at {@code readAtNanos}; {@code bytes == null} marks the end of the stream. */
    private record Chunk(byte[] bytes, long readAtNanos) {
        boolean isEnd() {
            return bytes == null;
        }
    }

    private final FaultProxy proxy;
    private final String name;
    private final Socket client;
    private final AtomicInteger endedDirections = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>(); // guarded by this
    private Socket upstream; // guarded by this
    private boolean finished; // guarded by this

    ProxiedConnection(FaultProxy proxy, String name, Socket client) {
        this.proxy = proxy;
        this.name = name;
        this.client = client;
    }

    String name() {
        return name;
    }

    /** Dials the target, starts the other three threads and reads from the client; on the "up" thread. */
    void run() {
        Socket up = new Socket();
        if (!register(up)) {
            closeQuietly(up);
            return;
        }
        try {
            up.connect(proxy.target(), CONNECT_TIMEOUT_MS);
            up.setTcpNoDelay(true);
            client.setTcpNoDelay(true);
        } catch (IOException e) {
            failed("dialing " + proxy.target(), e);
            return;
        }
        Direction toTarget = new Direction("up", client, up, proxy.toTarget);
        Direction toClient = new Direction("down", up, client, proxy.fromTarget);
        if (start("-up-writer", toTarget::write) && start("-down", toClient::read) && start("-down-writer", toClient::write)) {
            toTarget.read();
        } else {
            reset(); // the proxy is closing
        }
    }

    /** Closes both sockets abruptly (RST) and interrupts the threads; idempotent. */
    void reset() {
        finish(true);
    }

    private boolean start(String suffix, Runnable body) {
        return proxy.spawn(name + suffix, () -> {
            if (register(null)) {
                body.run();
            }
        });
    }

    /** Records the calling thread (and the target socket, when given); false once finished. */
    private synchronized boolean register(Socket up) {
        if (finished) {
            return false;
        }
        threads.add(Thread.currentThread());
        if (up != null) {
            upstream = up;
        }
        return true;
    }

    private void failed(String what, IOException e) {
        LOG.debug("{}: {} failed, resetting: {}", name, what, e.toString());
        reset();
    }

    /** Both ends of stream went through: close normally. */
    private void directionEnded() {
        if (endedDirections.incrementAndGet() == 2) {
            finish(false);
        }
    }

    private void finish(boolean abrupt) {
        List<Thread> running;
        Socket up;
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            running = List.copyOf(threads);
            up = upstream;
        }
        close(client, abrupt);
        close(up, abrupt);
        for (Thread t : running) {
            if (t != Thread.currentThread()) {
                t.interrupt(); // wakes writers waiting on their queue or on a delay
            }
        }
        proxy.removed(this);
    }

    private static void close(Socket s, boolean abrupt) {
        if (s == null) {
            return;
        }
        if (abrupt) {
            try {
                s.setSoLinger(true, 0); // close() then sends RST, not FIN
            } catch (IOException alreadyClosed) {
                // nothing to reset
            }
        }
        closeQuietly(s);
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    /** One way through the proxy. */
    private final class Direction {
        private final String label;
        private final Socket from;
        private final Socket to;
        private final AtomicLong forwarded;
        private final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);

        Direction(String label, Socket from, Socket to, AtomicLong forwarded) {
            this.label = label;
            this.from = from;
            this.to = to;
            this.forwarded = forwarded;
        }

        void read() {
            byte[] buf = new byte[CHUNK_BYTES];
            try {
                InputStream in = from.getInputStream();
                while (true) {
                    int n = in.read(buf);
                    long now = System.nanoTime();
                    if (n < 0) {
                        queue.put(new Chunk(null, now));
                        return;
                    }
                    if (proxy.state().mode().blackholes()) {
                        proxy.discarded.addAndGet(n);
                    } else {
                        queue.put(new Chunk(Arrays.copyOf(buf, n), now));
                    }
                }
            } catch (IOException e) {
                failed(label + " read", e);
            } catch (InterruptedException resetting) {
                // the connection is being reset: nothing left to do
            }
        }

        void write() {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Chunk c = queue.take();
                    boolean due = proxy.awaitDue(c.readAtNanos(), c.isEnd());
                    if (!due && c.isEnd()) {
                        return; // only a drop discards an end of stream, and it is resetting this connection
                    } else if (!due) {
                        proxy.discarded.addAndGet(c.bytes().length);
                    } else if (c.isEnd()) {
                        to.shutdownOutput(); // pass the half-close on
                        directionEnded();
                        return;
                    } else {
                        out.write(c.bytes());
                        forwarded.addAndGet(c.bytes().length);
                    }
                }
            } catch (IOException e) {
                failed(label + " write", e);
            } catch (InterruptedException resetting) {
                // the connection is being reset, or the proxy closed: nothing left to do
            }
        }
    }
}
