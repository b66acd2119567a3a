package io.jcircuit.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The raw TCP peer: a blocking loopback server that writes back whatever it reads, one platform
 * thread per connection, {@code TCP_NODELAY} on. It serves both ping-pong and pipelined clients,
 * since it echoes byte counts, not messages.
 *
 * <p>Lifecycle: {@link #start} binds a free port; {@link #close} stops accepting, and connections
 * end when their clients close them.
 */
final class TcpEchoServer implements AutoCloseable {

    private static final int BUFFER_BYTES = 64 * 1024;

    private final ServerSocket server;

    private TcpEchoServer(ServerSocket server) {
        this.server = server;
    }

    static TcpEchoServer start() throws IOException {
        TcpEchoServer s = new TcpEchoServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        Thread.ofPlatform().daemon().name("tcp-echo-accept").start(s::acceptLoop);
        return s;
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket c = server.accept();
                c.setTcpNoDelay(true);
                Thread.ofPlatform().daemon().name("tcp-echo-" + c.getPort()).start(() -> echo(c));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void echo(Socket c) {
        try (c) {
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            byte[] buf = new byte[BUFFER_BYTES];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the client went away: nothing to echo to
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
