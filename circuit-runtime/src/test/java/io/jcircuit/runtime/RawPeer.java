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
    private final WorkerId id = WorkerId.random();
    private long sequence;
    /** DATA frames read by {@link #readInBackground}, and the highest sequence number among them. */
    private final java.util.concurrent.atomic.AtomicLong dataRead = new java.util.concurrent.atomic.AtomicLong();
    private volatile long highestRead;
    private volatile boolean acking;

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
        hello.writeLong(id.value()).writeLong(0).writeLong(42).writeLong(0).writeByte(0)
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

    /** The worker this peer says it is. */
    WorkerId id() {
        return id;
    }

    /**
     * Reads frames on a thread of its own from now on, counting the DATA frames; they are acknowledged
     * only after {@link #acknowledgeFromNowOn}. Ends when the connection does.
     */
    RawPeer readInBackground() {
        Thread.ofPlatform().daemon().name("raw-peer-reader").start(() -> {
            try {
                while (true) {
                    byte[] rest = new byte[in.readInt()];
                    in.readFully(rest);
                    if (rest[FrameCodec.TYPE_OFFSET - 4] == FrameCodec.TYPE_DATA) {
                        highestRead = java.nio.ByteBuffer.wrap(rest, FrameCodec.SEQUENCE_OFFSET - 4, 8).getLong();
                        dataRead.incrementAndGet();
                        if (acking) {
                            acknowledge();
                        }
                    }
                }
            } catch (IOException closed) {
                // the connection ended
            }
        });
        return this;
    }

    /** Reads frames until a DATA frame comes; its payload (the message, after the frame's header). */
    ByteBuf nextData() throws IOException {
        while (true) {
            byte[] rest = new byte[in.readInt()];
            in.readFully(rest);
            if (rest[FrameCodec.TYPE_OFFSET - 4] == FrameCodec.TYPE_DATA) {
                return io.netty.buffer.Unpooled.wrappedBuffer(rest, FrameCodec.HEADER_LENGTH - 4, rest.length - (FrameCodec.HEADER_LENGTH - 4));
            }
        }
    }

    /** DATA frames {@link #readInBackground} has read. */
    long dataRead() {
        return dataRead.get();
    }

    /** Acknowledges what was read so far, and every DATA frame read from now on as it comes. */
    void acknowledgeFromNowOn() throws IOException {
        acking = true;
        acknowledge();
    }

    private void acknowledge() throws IOException {
        ByteBuf ack = FrameCodec.finish(FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_ACK, 0));
        ack.setLong(FrameCodec.ACK_OFFSET, highestRead);
        send(ack);
    }

    /** Sends {@code m} as {@code codecOf} encodes it, in a DATA frame with the next sequence number. */
    void send(CircuitRuntime codecOf, io.jcircuit.codec.Message m) throws IOException {
        ByteBuf frame = FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_DATA, 128);
        codecOf.codec().encode(m, frame);
        frame.setLong(FrameCodec.SEQUENCE_OFFSET, ++sequence);
        send(FrameCodec.finish(frame));
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

    synchronized void sendRaw(byte[] bytes) throws IOException {
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
