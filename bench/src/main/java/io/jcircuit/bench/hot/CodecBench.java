package io.jcircuit.bench.hot;

import io.jcircuit.Worker;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.Message;
import io.jcircuit.codec.MessageCodec;
import io.jcircuit.codec.RefDescriptor;
import io.jcircuit.codec.References;
import io.jcircuit.codec.WorkerDescriptor;
import io.jcircuit.link.FrameCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.reflect.InvocationHandler;
import java.util.Map;

/**
 * The codec's share of a call, as the bench's echo call makes it: a {@link Message.Call} with one
 * short string encoded into a frame and decoded back, and the {@link Message.Reply} likewise; and a
 * {@link Message.Go} of a small lambda. Single thread, no I/O: what the serializer and the frame
 * header cost per message.
 *
 * <p>Run: {@code java -cp "circuit-cli/target/circuit-cli.jar:circuit-cli/target/lib/*" org.openjdk.jmh.Main CodecBench}
 */
public class CodecBench extends HotPathBench {

    private static final WorkerId PEER = WorkerId.random();

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private MessageCodec codec;
    private Message.Call call;
    private Message.Reply reply;
    private Message.Go go;
    private ByteBuf encodedCall;
    private ByteBuf encodedReply;
    private ByteBuf encodedGo;

    @Setup(Level.Trial)
    public void setUp() {
        codec = new MessageCodec(CodecBench.class.getClassLoader(), new NoReferences());
        call = new Message.Call(42, 7, "echo(java.lang.String)", new Object[] {"hello"}, 30_000_000_000L, Map.of());
        reply = new Message.Reply(42, "hello");
        String greeting = "hello";
        go = new Message.Go(43, (io.jcircuit.Fn<Integer>) () -> greeting.length(), 30_000_000_000L, Map.of());
        encodedCall = frame(call);
        encodedReply = frame(reply);
        encodedGo = frame(go);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        encodedCall.release();
        encodedReply.release();
        encodedGo.release();
    }

    private ByteBuf frame(Message m) {
        ByteBuf frame = FrameCodec.begin(alloc, FrameCodec.TYPE_DATA, 128);
        codec.encode(m, frame, PEER);
        return FrameCodec.finish(frame);
    }

    private Message decode(ByteBuf frame) {
        ByteBuf payload = frame.retainedSlice(frame.readerIndex() + FrameCodec.HEADER_LENGTH,
            frame.readableBytes() - FrameCodec.HEADER_LENGTH);
        try {
            return codec.decode(payload, PEER);
        } finally {
            payload.release();
        }
    }

    /** Encodes {@code m} into a frame and returns the frame's length. */
    private int encode(Message m) {
        ByteBuf f = frame(m);
        int n = f.readableBytes();
        f.release();
        return n;
    }

    @Benchmark
    public int encodeCall() {
        return encode(call);
    }

    @Benchmark
    public Message decodeCall() {
        return decode(encodedCall);
    }

    @Benchmark
    public int encodeReply() {
        return encode(reply);
    }

    @Benchmark
    public Message decodeReply() {
        return decode(encodedReply);
    }

    /** A {@code go} of a lambda that captures one string, as {@code worker.go(() -> ...)} sends it. */
    @Benchmark
    public int encodeGo() {
        return encode(go);
    }

    @Benchmark
    public Message decodeGo() {
        return decode(encodedGo);
    }

    /** No references cross in these messages; the codec only needs the types to register. */
    private static final class NoReferences implements References {
        @Override
        public Class<? extends InvocationHandler> handlerType() {
            return InvocationHandler.class;
        }

        @Override
        public RefDescriptor describe(InvocationHandler handler, WorkerId to, boolean permanent,
                                      java.util.function.LongConsumer counted) {
            throw new UnsupportedOperationException("no references in the benchmark's messages");
        }

        @Override
        public InvocationHandler handlerFor(RefDescriptor descriptor, WorkerId from) {
            throw new UnsupportedOperationException("no references in the benchmark's messages");
        }

        @Override
        public Class<? extends Worker> workerType() {
            return Worker.class;
        }

        @Override
        public Worker resolveWorker(WorkerDescriptor descriptor) {
            throw new UnsupportedOperationException("no worker handles in the benchmark's messages");
        }
    }
}
