package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.Fn;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Valid encodings of every {@link Message} kind, the seeds that {@link FuzzMutator} mutates, and a
 * {@link References} stand-in that needs no runtime: references read back become proxies around a
 * handler that just carries its descriptor.
 */
final class FuzzCorpus {

    public interface Greeter {
        String greet(String name);
    }

    /** Carries the descriptor it was read with; calls on it do nothing remote. */
    record Handler(RefDescriptor d) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return "via " + d.handle();
        }
    }

    record FuzzWorker(WorkerId id, Address address) implements Worker {
        @Override
        public <R> R go(Fn<R> fn) {
            throw new UnsupportedOperationException("fuzz worker");
        }

        @Override
        public <T> T dial(String service, Class<T> iface) {
            throw new UnsupportedOperationException("fuzz worker");
        }

        @Override
        public <T> Optional<T> tryDial(String service, Class<T> iface) {
            return Optional.empty();
        }

        @Override
        public void kill() {
            throw new UnsupportedOperationException("fuzz worker");
        }

        @Override
        public void onExit(Runnable action) {
            throw new UnsupportedOperationException("fuzz worker");
        }
    }

    record Point(int x, int y) {
    }

    record Holder(String name, List<Greeter> greeters, Map<String, Object> byName, Worker worker, Point[] points) {
    }

    /** A function as a record, the other shape {@link Fn} allows besides a lambda. */
    record AddFn(int a, long b) implements Fn<Long> {
        @Override
        public Long call() {
            return a + b;
        }
    }

    static final References REFS = new References() {
        @Override
        public Class<? extends InvocationHandler> handlerType() {
            return Handler.class;
        }

        @Override
        public RefDescriptor describe(InvocationHandler handler, WorkerId to, boolean permanent,
                                      java.util.function.LongConsumer counted) {
            return ((Handler) handler).d();
        }

        @Override
        public InvocationHandler handlerFor(RefDescriptor descriptor, WorkerId from) {
            return new Handler(descriptor);
        }

        @Override
        public Class<? extends Worker> workerType() {
            return FuzzWorker.class;
        }

        @Override
        public Worker resolveWorker(WorkerDescriptor d) {
            return new FuzzWorker(d.id(), d.address());
        }
    };

    private FuzzCorpus() {
    }

    /**
     * One valid encoding of each message below, in this order, then of the requests with an interceptor
     * context (kept apart from {@link #messages()}, whose encodings {@code wire-format.hex} pins).
     */
    static List<byte[]> encodings(MessageCodec codec) {
        List<byte[]> out = new ArrayList<>();
        List<Message> all = new ArrayList<>(messages());
        all.addAll(withContext());
        for (Message m : all) {
            ByteBuf buf = Unpooled.buffer();
            try {
                codec.encode(m, buf, new WorkerId(0x77L));
                out.add(ByteBufUtil.getBytes(buf));
            } finally {
                buf.release();
            }
        }
        return out;
    }

    /** Requests carrying an interceptor context (kinds CALL_CTX and GO_CTX). */
    static List<Message> withContext() {
        return List.of(
            new Message.Call(19, 12, "greet(java.lang.String)", new Object[] {"traced"}, 1_000L,
                Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "baggage", "tenant=t-42")),
            new Message.Go(20, new AddFn(3, 4L), 2_000L, Map.of("k", "☃")));
    }

    /** Messages of every kind, with values that exercise Fory's serializers and the reference hooks. */
    static List<Message> messages() {
        int captured = 7;
        String capturedText = "captured";
        Worker worker = new FuzzWorker(new WorkerId(0x1234L), new Address("10.0.0.1", 7001));
        Holder holder = holder(worker);
        Map<String, Object> nested = new TreeMap<>(Map.of("list", List.of(1, 2L, 3.0, "x"), "set", Set.of("a"),
            "bytes", new byte[] {1, 2, 3}, "point", new Point(-1, Integer.MAX_VALUE)));
        List<Object> shared = new ArrayList<>(List.of("shared"));
        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        return List.of(
            new Message.Call(1, 9, "greet(java.lang.String)", new Object[] {"world"}, 1_000_000L),
            new Message.Call(2, 10, "m(java.lang.Object,int)", new Object[] {holder, 5}, 2_000_000L),
            new Message.Call(3, Long.MAX_VALUE, "none()", new Object[0], Long.MAX_VALUE),
            new Message.Call(4, 11, "many", new Object[] {null, 'c', (byte) 1, (short) 2, 3, 4L, 5f, 6d, true,
                "ünïcødé ☃", new int[] {1, 2}, new long[] {3}, new String[] {"a", null}, shared, shared}, 1),
            new Message.Go(5, (Fn<Integer>) () -> 14 * captured, 5_000L),
            new Message.Go(6, (Fn<String>) () -> capturedText + worker.id(), 6_000L),
            new Message.Go(7, new AddFn(1, 2L), 7_000L),
            new Message.Lookup(8, "svc", 8_000L),
            new Message.Lookup(9, "", 0L),
            new Message.Lookup(10, "a-longer/service.name:with ☃ unicode", -1L),
            new Message.Acquire(11, 42, 1_000L),
            new Message.Release(0, new long[0], new long[0]),
            new Message.Release(0, new long[] {1, 2, Long.MIN_VALUE}, new long[] {3, 4, Long.MAX_VALUE}),
            new Message.Reply(12, null),
            new Message.Reply(13, 42),
            new Message.Reply(14, "a reply"),
            new Message.Reply(15, List.of("a", "b")),
            new Message.Reply(16, new LinkedHashMap<>(nested)),
            new Message.Reply(17, holder),
            new Message.Reply(18, proxy(99)),
            new Message.Reply(19, worker),
            new Message.Reply(20, cyclic),
            new Message.Reply(21, Optional.of(new Point(3, 4))),
            new Message.Reply(22, new Object[] {new byte[64], new int[16], Arrays.asList(1, null, 3)}),
            new Message.Failure(23, RemoteFailure.describe(new IllegalArgumentException("bad", new RuntimeException("root")))),
            new Message.Failure(24, new RemoteFailure("com.example.NotHere", null, new RemoteFailure.Frame[0], null)));
    }

    private static Holder holder(Worker worker) {
        Map<String, Object> byName = new LinkedHashMap<>();
        byName.put("x", proxy(3));
        byName.put("n", null);
        byName.put("p", new Point(1, 2));
        return new Holder("h", List.of(proxy(1), proxy(2)), byName, worker, new Point[] {new Point(5, 6), null});
    }

    static Greeter proxy(long handle) {
        RefDescriptor d = new RefDescriptor(new WorkerId(0xabcL), new Address("127.0.0.1", 7000), handle, Greeter.class.getName());
        return (Greeter) Proxy.newProxyInstance(Greeter.class.getClassLoader(), new Class<?>[] {Greeter.class}, new Handler(d));
    }
}
