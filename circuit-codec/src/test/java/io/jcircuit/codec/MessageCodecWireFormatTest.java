package io.jcircuit.codec;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The read checks must not change what the codec writes, nor refuse what it wrote before them:
 * {@code wire-format.hex} holds the encodings of {@link WireFormatSamples} by the codec before them.
 */
class MessageCodecWireFormatTest {

    private final MessageCodec codec = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS);

    /**
     * Samples the codec writes differently since on purpose, by their index: a FAILURE since an exception's
     * simple fields travel ({@link RemoteFailure} has two more components; a peer of a build before reads it
     * and skips them, and this build reads the older form, as {@link #shouldDecodeEveryEncodingTheCodecWroteBeforeTheReadChecks}
     * checks).
     */
    private static final java.util.Map<Integer, String> ENCODED_DIFFERENTLY_SINCE = java.util.Map.of(23,
        "05000000000000001802200000000001ff4c636f6d2e6578616d706c652e4e6f7448657265fdfdfdfd000300fdfd025c50cd660802703e00102d21da4891115113d09c320829762463a64e94085d2240cd150458fad0309224cc896094bad030801b6c0c9302161b8c3092900c401b6916206124030103c9ca8f7c49291060030103e900150458fb502e8490256988149100001f00181a4507e00300002d21da4891115113d09c320842eb58861c988f80416a2227cfa2018200");

    @Test
    void shouldEncodeEverySampleAsTheCodecDidBeforeTheReadChecks() throws IOException {
        List<Message> samples = WireFormatSamples.messages();
        List<String> pinned = pinnedEncodings();
        assertThat(pinned).hasSameSizeAs(samples);

        for (int i = 0; i < samples.size(); i++) {
            if (samples.get(i) instanceof Message.Failure f && f.failure().frames().length > 0) {
                continue; // its frames are the stack of whoever built it: they differ between runners
            }
            ByteBuf buf = Unpooled.buffer();
            try {
                codec.encode(samples.get(i), buf, new WorkerId(0x77L));
                assertThat(ByteBufUtil.hexDump(buf)).as("encoding of sample %d, %s", i, samples.get(i))
                    .isEqualTo(ENCODED_DIFFERENTLY_SINCE.getOrDefault(i, pinned.get(i)));
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void shouldDecodeEveryEncodingTheCodecWroteBeforeTheReadChecks() throws IOException {
        List<Message> samples = WireFormatSamples.messages();
        List<String> pinned = pinnedEncodings();

        for (int i = 0; i < pinned.size(); i++) {
            ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex(pinned.get(i)));
            try {
                Message m = codec.decode(buf);
                assertThat(m.callId()).as("call id of sample %d", i).isEqualTo(samples.get(i).callId());
                if (m instanceof Message.Reply r && samples.get(i) instanceof Message.Reply sent && sent.value() != null && !sent.value().getClass().isArray()) {
                    assertThat(r.value()).as("class of the value of sample %d", i).isExactlyInstanceOf(classReadBack(sent.value()));
                    assertThat(r.value()).as("value of sample %d", i).usingRecursiveComparison().isEqualTo(sent.value());
                }
                if (m instanceof Message.Reply r && r.value() instanceof Object[] a) {
                    assertThat(a.getClass()).isEqualTo(((Message.Reply) samples.get(i)).value().getClass());
                    assertThat(Arrays.deepToString(a)).isEqualTo(Arrays.deepToString((Object[]) ((Message.Reply) samples.get(i)).value()));
                }
            } finally {
                buf.release();
            }
        }
    }

    /** Sample 23 (a FAILURE) as the codec wrote it before suppressed exceptions travelled: a peer of that build. */
    private static final String FAILURE_BEFORE_SUPPRESSED =
        "050000000000000018021c0000000001ff4c636f6d2e6578616d706c652e4e6f7448657265fd000300fd02371019a0f5c81f5e00082d21da4891115113d09c320829762463a64e94085d2240cc896094bad030801b8c3092900c401b69162061240301036988149100001f00181a4507e00300002d21da4891115113d09c320842eb58861c988f80416a2227cfa2018200";

    /** Sample 23 as the codec wrote it before a failure's {@code detail} travelled: a peer of that build. */
    private static final String FAILURE_BEFORE_DETAIL = "050000000000000018021d0000000001ff4c636f6d2e6578616d706c652e4e6f7448657265fd000300fdfd02429043f5da322e7f000a2d21da4891115113d09c320829762463a64e94085d2240cc896094bad030801b8c3092900c401b6916206124030103c9ca8f7c492910600301036988149100001f00181a4507e00300002d21da4891115113d09c320842eb58861c988f80416a2227cfa2018200";

    /**
     * A failure with a detail (a {@code getMessage()} that adds to the message), as the build that
     * first sent details wrote it: later builds must go on reading it.
     */
    private static final String FAILURE_WITH_DETAIL = "05000000000000001902350000000001ff44636f6d2e6578616d706c652e436f646564ff246469736b2066756c6cff384534323a206469736b2066756c6c000300fdfd0248900be3198cd60d000c2d21da4891115113d09c320829762463a64e94085d2240cc896094bad030801b6c0c9302161b8c3092900c401b6916206124030103c9ca8f7c492910600301036988149100001f00181a4507e00300002d21da4891115113d09c320842eb58861c988f80416a2227cfa2018200";

    @Test
    void shouldDecodeAFailureWithTheDetailItsBuildFirstSent() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex(FAILURE_WITH_DETAIL));
        try {
            RemoteFailure f = ((Message.Failure) codec.decode(buf)).failure();
            assertThat(f.message()).isEqualTo("E42: disk full");
            assertThat(f.detail()).isEqualTo("disk full");
        } finally {
            buf.release();
        }
    }

    /** Sample 23 from peers of older builds: each decodes, with what it did not send as null. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"suppressed", "detail"})
    void shouldDecodeAFailureFromAPeerThatSendsNo(String field) {
        String hex = field.equals("suppressed") ? FAILURE_BEFORE_SUPPRESSED : FAILURE_BEFORE_DETAIL;
        ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex(hex));
        try {
            Message.Failure f = (Message.Failure) codec.decode(buf);
            assertThat(f.failure().className()).isEqualTo("com.example.NotHere");
            assertThat(field.equals("suppressed") ? f.failure().suppressed() : f.failure().detail()).isNull();
        } finally {
            buf.release();
        }
    }

    /**
     * The class a value of {@code sent}'s class is read back as. Fory 0.13 reads every list of
     * {@code java.util.ImmutableCollections} through {@code List.of} ({@code ImmutableListSerializer.onCollectionRead}),
     * so a {@code List.of(...).subList(...)} arrives as the {@code List.of} of its elements: a
     * {@code List12} or {@code ListN}, equal to it but of another class. The codec did so before the
     * read checks too (its encoding of sample 38 read back by the codec at 5d0e5dc is a {@code List12}).
     */
    private static Class<?> classReadBack(Object sent) {
        return sent.getClass() == IMMUTABLE_SUB_LIST ? List.copyOf((List<?>) sent).getClass() : sent.getClass();
    }

    private static final Class<?> IMMUTABLE_SUB_LIST = List.of(1, 2, 3).subList(0, 2).getClass();

    private static List<String> pinnedEncodings() throws IOException {
        try (InputStream in = MessageCodecWireFormatTest.class.getResourceAsStream("wire-format.hex")) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
    }
}
