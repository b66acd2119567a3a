package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.Chan;
import io.jcircuit.ChanCore;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** JCircuit's own values, written without a generated serializer, read back as they were. */
class ProtocolSerializersTest {

    public record Part(String name, long size) {
    }

    public record Request(WorkerId from, List<Part> parts, Map<String, String> env, int heapMb, boolean daemon,
                          Address at, String note) {
    }

    /** The same name as {@link Request} on another runtime, with a component fewer. */
    public record Shorter(WorkerId from, List<Part> parts) {
    }

    private final MessageCodec codec = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS, List.of(Request.class, Part.class));

    private Object roundTrip(MessageCodec writer, MessageCodec reader, Object value) {
        ByteBuf buf = Unpooled.buffer();
        try {
            writer.encode(new Message.Reply(7, value), buf, new WorkerId(0x77L));
            return ((Message.Reply) reader.decode(buf)).value();
        } finally {
            buf.release();
        }
    }

    @Test
    void readsBackARecordWithNestedRecordsCollectionsPrimitivesAndNull() {
        Request r = new Request(new WorkerId(0xabcdefL), List.of(new Part("a.jar", 12), new Part("b.jar", 34)),
            Map.of("K", "v"), 64, true, new Address("10.0.0.7", 7001), null);
        assertThat(roundTrip(codec, codec, r)).isEqualTo(r);
        assertThat(roundTrip(codec, codec, new Address("::1", 65535))).isEqualTo(new Address("::1", 65535));
        assertThat(roundTrip(codec, codec, List.of(new WorkerId(1), new WorkerId(-1)))).isEqualTo(List.of(new WorkerId(1), new WorkerId(-1)));
    }

    @Test
    void aChannelTravelsAsTheReferenceToItsCore() {
        ChanCore core = (ChanCore) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ChanCore.class},
            FuzzCorpus.REFS.handlerFor(new RefDescriptor(new WorkerId(0x42L), new Address("127.0.0.1", 7000), 9, ChanCore.class.getName()), null));
        Object back = roundTrip(codec, codec, new Chan<String>(core));
        assertThat(back).isInstanceOf(Chan.class);
        ChanCore read = ((Chan<?>) back).core();
        assertThat(Proxy.isProxyClass(read.getClass())).isTrue();
        assertThat(FuzzCorpus.REFS.describe(Proxy.getInvocationHandler(read), null, false, h -> { }).handle()).isEqualTo(9);
    }

    /**
     * What a reader gets from a writer whose record of the same name differs: the writer writes
     * {@code written}, and the reader's class loader gives {@code readAs} for its name.
     */
    private Object readAs(Class<? extends Record> written, Class<? extends Record> readAs, Object value) {
        MessageCodec writer = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS, List.of(written, Part.class));
        ClassLoader renaming = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                return name.equals(written.getName()) ? readAs : super.loadClass(name, resolve);
            }
        };
        MessageCodec reader = new MessageCodec(renaming, FuzzCorpus.REFS, List.of(readAs, Part.class));
        return roundTrip(writer, reader, value);
    }

    @Test
    void refusesARecordWhoseComponentsDoNotMatchWithAClearError() {
        assertThatThrownBy(() -> readAs(Shorter.class, Request.class, new Shorter(new WorkerId(5), List.of())))
            .hasMessageContaining("a Request with 2 components; this runtime's has 7");
    }

    @Test
    void refusesAComponentOfTheWrongType() {
        assertThatThrownBy(() -> readAs(Swap.class, Part.class, new Swap(1, "x")))
            .hasMessageContaining("component 0 of a Part is a java.lang.Long, not a java.lang.String");
    }

    /** {@link Part} with its components the other way round. */
    public record Swap(long size, String name) {
    }
}
