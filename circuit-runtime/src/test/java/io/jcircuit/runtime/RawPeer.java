package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.jcircuit.link.FrameCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A hand-driven peer on a plain socket, for feeding a runtime bad input byte by byte. */
final class RawPeer implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private long sequence;

    RawPeer(Address target) throws IOException {
        socket = new Socket(target.host(), target.port());
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    /** Sends HELLO as a worker and reads the WELCOME. */
    RawPeer handshake() throws IOException {
        ByteBuf hello = FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_HELLO, 64);
        byte[] addr = "127.0.0.1:1".getBytes(StandardCharsets.UTF_8);
        // sender, expected peer (any), session number, received, flags (a new session), address
        hello.writeLong(WorkerId.random().value()).writeLong(0).writeLong(42).writeLong(0).writeByte(0)
            .writeShort(addr.length).writeBytes(addr);
        send(FrameCodec.finish(hello));
        int length = in.readInt();
        byte[] rest = new byte[length];
        in.readFully(rest);
        if (rest[FrameCodec.TYPE_OFFSET - 4] != FrameCodec.TYPE_WELCOME) {
            throw new IOException("expected WELCOME, got type " + rest[1]);
        }
        return this;
    }

    /** A DATA frame with the next sequence number around {@code payload}. */
    ByteBuf data(byte[] payload) {
        ByteBuf frame = FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_DATA, payload.length);
        frame.writeBytes(payload);
        frame.setLong(FrameCodec.SEQUENCE_OFFSET, ++sequence);
        return FrameCodec.finish(frame);
    }

    void send(ByteBuf frame) throws IOException {
        byte[] bytes = new byte[frame.readableBytes()];
        frame.readBytes(bytes);
        frame.release();
        sendRaw(bytes);
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads until the runtime closes the connection; true if it did within the socket timeout. */
    boolean closedByPeer() throws IOException {
        try {
            while (in.read() >= 0) {
                // discard whatever comes before the end
            }
            return true;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** Half-closes our side, as a peer that dies mid-frame would. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
