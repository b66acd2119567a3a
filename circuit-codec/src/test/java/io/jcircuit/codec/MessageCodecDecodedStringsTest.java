package io.jcircuit.codec;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The strings the runtime relies on are checked after Fory built them: the arguments and the reply
 * themselves, and every string of a {@link RemoteFailure}. Each case encodes a sound message, then
 * rewrites the header of one string (9 bytes of Latin-1, header {@code 9 << 2 | 0}) to coder 3, which
 * does not exist, or to UTF-16 of 9 bytes, an odd count: bytes no sound encoder writes.
 */
class MessageCodecDecodedStringsTest {

    private static final String MARK = "QQQQQQQQQ";
    private static final int MARK_HEADER = MARK.length() << 2;

    private final MessageCodec codec = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS);

    @ParameterizedTest(name = "coder {0}")
    @ValueSource(ints = {1, 3})
    void shouldRefuseAReplyThatIsAStringWhoseBytesDoNotFitItsCoder(int coder) {
        byte[] bytes = withCoder(new Message.Reply(1, MARK), coder);

        assertThatThrownBy(() -> decode(bytes)).isInstanceOf(CodecException.class).hasMessageContaining("the reply");
    }

    @ParameterizedTest(name = "coder {0}")
    @ValueSource(ints = {1, 3})
    void shouldRefuseACallWhoseStringArgumentDoesNotFitItsCoder(int coder) {
        byte[] bytes = withCoder(new Message.Call(1, 2, "m(java.lang.String)", new Object[] {7, MARK}, 0), coder);

        assertThatThrownBy(() -> decode(bytes)).isInstanceOf(CodecException.class).hasMessageContaining("argument 1");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"className", "message", "detail", "declaringClass", "methodName", "fileName"})
    void shouldRefuseAFailureWithAStringThatDoesNotFitItsCoder(String where) {
        RemoteFailure.Frame frame = new RemoteFailure.Frame(where.equals("declaringClass") ? MARK : "a.B",
            where.equals("methodName") ? MARK : "m", where.equals("fileName") ? MARK : "B.java", 1);
        RemoteFailure failure = new RemoteFailure(where.equals("className") ? MARK : "x.Y",
            where.equals("message") ? MARK : "boom", new RemoteFailure.Frame[] {frame}, null, null,
            where.equals("detail") ? MARK : null);
        byte[] bytes = withCoder(new Message.Failure(1, failure), 3);

        assertThatThrownBy(() -> decode(bytes)).isInstanceOf(CodecException.class).hasMessageContaining("FAILURE");
    }

    @Test
    void shouldRefuseAFailureWithoutItsClassName() {
        byte[] bytes = encode(new Message.Failure(1, new RemoteFailure(null, "m", new RemoteFailure.Frame[0], null)));

        assertThatThrownBy(() -> decode(bytes)).isInstanceOf(CodecException.class).hasMessageContaining("class name");
    }

    @Test
    void shouldDecodeAUtf16CodedLatin1ArgumentIntoAnEqualString() {
        // What a -XX:-CompactStrings peer writes: the same text, coded UTF-16.
        byte[] bytes = encode(new Message.Call(1, 2, "m", new Object[] {"svc"}, 0));
        byte[] utf16 = WireBytes.replace(bytes, new byte[] {3 << 2, 's', 'v', 'c'},
            new byte[] {6 << 2 | 1, 's', 0, 'v', 0, 'c', 0});

        Message.Call call = (Message.Call) decode(utf16);

        assertThat(call.args()).containsExactly("svc");
    }

    @Test
    void shouldLeaveStringsNestedInAValueAsForyBuiltThem() {
        // The accepted gap (see DecodedStrings.isAcceptedGap): not checked, and not refused.
        byte[] bytes = withCoder(new Message.Reply(1, List.of(Map.of("k", MARK))), 3);

        Message.Reply reply = (Message.Reply) decode(bytes);

        List<DecodedStrings.Found> accepted = new java.util.ArrayList<>();
        assertThat(DecodedStrings.findMalformed(reply, accepted::add)).isNull();
        assertThat(accepted).containsExactly(new DecodedStrings.Found(DecodedStrings.Defect.BROKEN, "value[0].values[0]"));
    }

    private byte[] withCoder(Message m, int coder) {
        byte[] latin1 = MARK.getBytes(StandardCharsets.ISO_8859_1);
        byte[] from = new byte[latin1.length + 1];
        from[0] = (byte) MARK_HEADER;
        System.arraycopy(latin1, 0, from, 1, latin1.length);
        byte[] to = from.clone();
        to[0] = (byte) (MARK_HEADER | coder);
        return WireBytes.replace(encode(m), from, to);
    }

    private byte[] encode(Message m) {
        ByteBuf buf = Unpooled.buffer();
        try {
            codec.encode(m, buf, new WorkerId(0x77L));
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    private Message decode(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        try {
            return codec.decode(buf);
        } finally {
            buf.release();
        }
    }
}
