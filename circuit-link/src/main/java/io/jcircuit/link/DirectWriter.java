package io.jcircuit.link;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Writes frames to an epoll socket from the sending thread itself, without handing them to the event
 * loop: on small machines that hand-over (a queued task and an eventfd wake-up) costs more than the
 * write. See {@link Link#send} for the protocol that keeps frames in order.
 *
 * <p>It writes through its own duplicate of the socket's descriptor ({@code dup(2)}), which only this
 * class closes, under the link's send lock. So a write can never reach a descriptor number that Netty
 * has closed and the kernel has handed to another file; the connection itself ends when both
 * descriptors are closed, which {@link #close()} does as soon as the channel goes inactive.
 *
 * <p>Calls go through the Foreign Function API to libc's {@code dup}, {@code send} and {@code close}.
 * Where those cannot be bound, {@link #open} returns {@code null} and links write through Netty.
 */
final class DirectWriter {

    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;

    /** libc bindings; method handles are constants, not state. */
    private static final class Libc {
        static final MethodHandle DUP;
        static final MethodHandle SEND;
        static final MethodHandle CLOSE;
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final boolean AVAILABLE;

        static {
            MethodHandle dup = null;
            MethodHandle send = null;
            MethodHandle close = null;
            boolean ok;
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                dup = linker.downcallHandle(libc.find("dup").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                send = linker.downcallHandle(libc.find("send").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
                    Linker.Option.captureCallState("errno"));
                close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                ok = true;
            } catch (RuntimeException | Error unavailable) {
                ok = false;
            }
            DUP = dup;
            SEND = send;
            CLOSE = close;
            AVAILABLE = ok;
        }
    }

    private final MemorySegment errno = java.lang.foreign.Arena.ofAuto().allocate(Libc.CAPTURE);
    private int fd;

    private DirectWriter(int fd) {
        this.fd = fd;
    }

    /** Whether libc's functions could be bound; binds them on the first call, which takes a while in a cold JVM. */
    static boolean available() {
        return Libc.AVAILABLE;
    }

    /** A writer on a duplicate of {@code socketFd}, or {@code null} when direct writes are unavailable. */
    static DirectWriter open(int socketFd) {
        if (!Libc.AVAILABLE) {
            return null;
        }
        try {
            int dup = (int) Libc.DUP.invokeExact(socketFd);
            return dup < 0 ? null : new DirectWriter(dup);
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * Writes as much of {@code buf}'s readable bytes as the socket takes now, without blocking; the
     * caller holds the link's send lock. Returns the bytes written (0 when the socket buffer is full),
     * or -1 once this writer is closed.
     *
     * @throws IOException when the socket reports an error (reset, broken pipe)
     */
    int write(ByteBuf buf) throws IOException {
        if (fd < 0) {
            return -1;
        }
        if (!buf.hasMemoryAddress()) {
            return 0; // heap memory cannot be handed to send(2) here; Netty writes it instead
        }
        int length = buf.readableBytes();
        MemorySegment data = MemorySegment.ofAddress(buf.memoryAddress() + buf.readerIndex()).reinterpret(length);
        try {
            long n;
            do {
                n = (long) Libc.SEND.invokeExact(errno, fd, data, (long) length, MSG_DONTWAIT | MSG_NOSIGNAL);
            } while (n < 0 && (int) Libc.ERRNO.get(errno, 0L) == EINTR);
            if (n >= 0) {
                return (int) n;
            }
            int err = (int) Libc.ERRNO.get(errno, 0L);
            if (err == EAGAIN) {
                return 0;
            }
            throw new IOException("send failed, errno " + err);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("send failed: " + t, t);
        }
    }

    /** Closes the duplicate descriptor; the caller holds the link's send lock. Idempotent. */
    void close() {
        if (fd >= 0) {
            try {
                int ignored = (int) Libc.CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                // nothing left to do: the descriptor is gone either way
            }
            fd = -1;
        }
    }
}
