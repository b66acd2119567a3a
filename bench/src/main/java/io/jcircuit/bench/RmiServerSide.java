package io.jcircuit.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.rmi.Remote;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import java.util.Base64;

/**
 * The Java RMI peer: an {@link RmiEcho} exported on a loopback port, with no registry. Its stub
 * travels to the client as Base64 of its Java serialization, which carries the endpoint; the stub
 * names the host in {@code java.rmi.server.hostname}, which the server JVM sets to 127.0.0.1.
 *
 * <p>Lifecycle: {@link #start} exports; {@link #close} unexports, failing calls in progress.
 */
final class RmiServerSide implements AutoCloseable {

    private final EchoImpl impl;
    private final String encodedStub;

    private RmiServerSide(EchoImpl impl, String encodedStub) {
        this.impl = impl;
        this.encodedStub = encodedStub;
    }

    static RmiServerSide start() throws IOException {
        EchoImpl impl = new EchoImpl();
        Remote stub = UnicastRemoteObject.exportObject(impl, 0, null, new LoopbackSockets());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(stub);
        }
        return new RmiServerSide(impl, Base64.getEncoder().encodeToString(bytes.toByteArray()));
    }

    /** The stub for {@link #decode}. */
    String encodedStub() {
        return encodedStub;
    }

    /**
     * The stub that {@link #encodedStub()} encodes, ready to call.
     *
     * @throws IOException when the text is not such a stub
     */
    static RmiEcho decode(String encodedStub) throws IOException {
        byte[] bytes = Base64.getDecoder().decode(encodedStub);
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return (RmiEcho) in.readObject();
        } catch (ClassNotFoundException | ClassCastException e) {
            throw new IOException("not an RmiEcho stub: " + e, e);
        }
    }

    @Override
    public void close() throws IOException {
        UnicastRemoteObject.unexportObject(impl, true);
    }

    /** Echoes its argument. */
    private static final class EchoImpl implements RmiEcho {
        @Override
        public String echo(String s) {
            return s;
        }

        @Override
        public long compileMillis() {
            return Loops.compileMillis();
        }
    }

    /** Binds RMI's server socket to loopback only. A record, so that equal factories share a port. */
    private record LoopbackSockets() implements RMIServerSocketFactory {
        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        }
    }
}
