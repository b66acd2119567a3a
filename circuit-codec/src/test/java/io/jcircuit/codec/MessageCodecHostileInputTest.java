package io.jcircuit.codec;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Inputs that {@link MessageCodecFuzzTest} found breaking the decoder's contract, kept as fixed
 * regression cases. Each is the shortest input found (or a hand-shrunk variant) for one bug.
 * (One more finding has no fixed case: a StringIndexOutOfBoundsException escaping {@code decode}
 * from MessageCodec.java:170 shows only once the JIT has compiled the string concatenation, after
 * about 19,000 decodes of {@code 04000000000000001302ffffffff00c8023412000000000d6d1b6b6cdba66e1d1659da2700003431302e30ffff03313a37303031};
 * its cause is the broken strings below.)
 *
 * <p><b>Note:</b> every test here FAILS against MessageCodec as of commit a39703a (Apache Fory
 * 0.13.0); they pin bugs reported for fixing, and pass once the codec is fixed.
 */
class MessageCodecHostileInputTest {

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final MessageCodec codec = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS);

    /**
     * FAILS at a39703a: Fory's {@code StringSerializer.readBytesString} wraps the bytes it read in a
     * String with the coder it read, unchecked. Coder 3 does not exist, and UTF-16 needs an even
     * number of bytes; such a string's {@code length()} disagrees with its chars, and concatenating
     * it throws or overwrites the characters next to it.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "coder 3 (none such), 030000000000000001000000000000000027414243444546474849",
        "UTF-16 with 9 bytes, 030000000000000001000000000000000025414243444546474849",
    })
    void shouldNotDecodeAStringWhoseBytesDoNotFitItsCoder(String what, String hex) {
        Message.Lookup lookup;
        try {
            lookup = (Message.Lookup) decode(hex);
        } catch (CodecException refused) {
            return; // refusing the message is as good as decoding a sound string
        }
        assertThat(DecodedStrings.defect(lookup.service())).as("defect of the service name decoded from " + what).isNull();
    }

    /**
     * FAILS at a39703a: a JVM run with {@code -XX:-CompactStrings} codes every string in UTF-16, and
     * this is what its codec writes for {@code new Message.Lookup(1, "svc", 0)} (checked by running
     * the codec in such a JVM). Read here, the name prints as "svc" but is not {@code equals} to
     * "svc" (String.equals compares coders first), so the lookup would miss the service.
     */
    @Test
    void shouldDecodeAUtf16CodedLatin1NameIntoAnEqualString() {
        Message.Lookup lookup = (Message.Lookup) decode("030000000000000001000000000000000019730076006300");

        assertThat(lookup.service()).isEqualTo("svc");
    }

    /**
     * FAILS at a39703a: Fory sizes arrays and collections by a count read off the wire before
     * checking that the input could hold that many elements, so a few bytes cost tens of MB (the
     * fuzz found the same paths costing up to 4 GB from 69 bytes). Named by the Fory code that
     * allocates.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ObjectArraySerializer.newArray (call arguments), 010000000000000001000000000000000900000000000f42405c6772656574286a6176612e6c616e672e537472696e672902ffffffff00408080800802002c14776f726c64",
        "ArrayListSerializer.newCollection, 05000000000000001402ffffffff00428080800803",
        "ImmutableListSerializer.newCollection, 04000000000000000f02ffffffff0098028080800861",
        "ByteArraySerializer.read, 04000000000000001602ffffffff004006003080808008000000",
        "ObjectArraySerializer.newArray (Integer[] - Fory builds its serializer up front), 0400000000000000c802ffffffff006c8080800802002402",
        "ObjectArraySerializer.newArray (Class[] - Fory builds its serializer up front), 0400000000000000c902ffffffff00b001808080080200482c",
        "ObjectArraySerializer.newArray (StackTraceElement[] - registered early; serializer built when first met), 0400000000000000d102ffffffff0092018180800802000002fdff0c612e42ff18422e6a617661ff046dfdfd",
        "ClassDefDecoder.readFieldsInfo (field count), 0200000000000000070000000000001b580207000000000104000000020122102b1f0000100002af9d6800042d21da4891115113d09c320836bea32cb87227a897cd061be6800c04100c000e",
        "GuavaMapSerializer.newMap (Guava RegularImmutableMap: 2 GB from 48 bytes - fuzz input 96054), 04000000000000001202ffffffff000400b002ffffffff00c80234120000000000003431302e302e302e313a37303031",
        "RegularImmutableListSerializer.newCollection (Guava ImmutableList), 04000000000000008f02ffffffff00b202808080080824020406",
        "ImmutableSortedSetSerializer.newCollection (Guava ImmutableSortedSet), 04000000000000009702ffffffff00ba0280808008000600410409ccd19ce32c9a1398c7374272d6414c160475a09d2205f5d119228698feffffffffffff7f0824020406",
    })
    void shouldNotAllocateMuchMoreThanTheInputForACountReadOffTheWire(String site, String hex) {
        byte[] input = HexFormat.of().parseHex(hex);
        decodeQuietly(input); // once to load classes and generate serializers: that cost is paid once per JVM

        long before = THREADS.getCurrentThreadAllocatedBytes();
        decodeQuietly(input);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;

        assertThat(allocated).as("bytes allocated decoding %d bytes, via %s", input.length, site)
            .isLessThanOrEqualTo(MessageCodecFuzzTest.ALLOCATION_BASE_BYTES + MessageCodecFuzzTest.ALLOCATION_PER_INPUT_BYTE * input.length);
    }

    /**
     * FAILS at a39703a: the class definition in this call's arguments is flagged as compressed, and
     * its deflate stream is cut short. Fory's {@code DeflaterMetaCompressor.decompress} loops while
     * {@code !inflater.finished()}, and {@code inflate} returns 0 forever on a truncated stream: the
     * decoding thread spins at 100% CPU and never returns (apache/fory#3471, fixed upstream by
     * apache/fory#3472). A failing run leaves that thread spinning until the JVM exits.
     */
    @Test
    void shouldNotHangOnATruncatedCompressedClassDefinition() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> decodeQuietly(HexFormat.of().parseHex(
            "010000000000000004000000000000000b0000000000000001104d616e7902fdffffff00401efd0020630000280880000000260000a0"
                + "40002a0000000000001840001c01002c49fc006e0000eb006300f8006400e9002000032600360801000002020000000038080300"
                + "000000000000003eef006300f8006400e9042000032600360801000000020000000038080300000000000000003e020eff047fff"
                + "ffff61fd004201082c18736861726564fe0d")));
    }

    /**
     * FAILS at a39703a: Fory generates, compiles (Janino) and loads a serializer class for every
     * class-definition id it has not met, and keeps the id for good (the static
     * {@code MetaSharedCodecBuilder.idGenerator}). The id is a hash the receiver does not check: a
     * peer that varies it (here bytes 33 and 34 of a GO carrying a record) gets every message decoded,
     * and costs this JVM a new class and ~15 ms each time. Measured: 2,000 such messages of 72 bytes
     * loaded 2,077 classes and 9.5 MiB of metaspace, never unloaded.
     *
     * <p>The codec now refuses an id that does not match its definition's bytes (no Fory encoder
     * writes one), so these messages are refused: what this case pins is that they load no classes.
     * {@link #shouldRefuseAClassDefinitionWhoseIdDoesNotMatchItsBytes} pins the refusal itself.
     */
    @Test
    void shouldNotLoadAClassForEveryClassDefinitionIdAPeerMakesUp() {
        byte[] good = encode(new Message.Go(7, new FuzzCorpus.AddFn(1, 2L), 7_000));
        java.lang.management.ClassLoadingMXBean classes = ManagementFactory.getClassLoadingMXBean();
        decodeQuietly(good);

        long before = classes.getLoadedClassCount();
        for (int i = 1; i <= 50; i++) {
            byte[] variant = good.clone();
            variant[33] ^= (byte) i;
            variant[34] ^= (byte) (i * 7);
            decodeQuietly(variant); // decoded or refused, either will do
        }

        assertThat(classes.getLoadedClassCount() - before).as("classes loaded by 50 messages").isLessThan(10);
    }

    /** The GO above with bits 24-39 of its class definition's id (part of the hash) flipped. */
    @Test
    void shouldRefuseAClassDefinitionWhoseIdDoesNotMatchItsBytes() {
        byte[] variant = encode(new Message.Go(7, new FuzzCorpus.AddFn(1, 2L), 7_000));
        variant[33] ^= 1;

        assertThatThrownBy(() -> codec.decode(Unpooled.wrappedBuffer(variant)))
            .isInstanceOf(CodecException.class).hasMessageContaining("does not match the hash");
    }

    /**
     * A peer can vary a definition's content and send the matching id (the hash is not keyed), and
     * each new definition costs a generated class: the codec lets in a bounded number of definitions,
     * in all and from each peer. Here: 2 in all, 1 a peer; sound messages, a new class each.
     */
    @Test
    void shouldBoundTheClassDefinitionsPeersMayIntroduce() {
        MessageCodec bounded = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS, new ClassDefIds(2, 1));
        byte[] point = encode(new Message.Reply(1, new FuzzCorpus.Point(1, 2)));
        byte[] add = encode(new Message.Go(2, new FuzzCorpus.AddFn(1, 2L), 7_000));
        WorkerId a = new WorkerId(0xaL);
        WorkerId b = new WorkerId(0xbL);
        WorkerId c = new WorkerId(0xcL);

        assertThat(bounded.decode(Unpooled.wrappedBuffer(point), a)).isInstanceOf(Message.Reply.class);
        assertThat(bounded.decode(Unpooled.wrappedBuffer(point), b)).as("a definition already let in").isInstanceOf(Message.Reply.class);
        assertThatThrownBy(() -> bounded.decode(Unpooled.wrappedBuffer(add), a)).as("a's second")
            .isInstanceOf(CodecException.class).hasMessageContaining("1 of at most 1 by this peer");
        assertThat(bounded.decode(Unpooled.wrappedBuffer(add), b)).isInstanceOf(Message.Go.class);
        assertThat(bounded.decode(Unpooled.wrappedBuffer(add), a)).as("now let in").isInstanceOf(Message.Go.class);
        byte[] third = encode(new Message.Reply(4, new WireFormatSamples.GuavaFields(null, null, null, null, null)));
        assertThatThrownBy(() -> bounded.decode(Unpooled.wrappedBuffer(third), c)).as("a third in all")
            .isInstanceOf(CodecException.class).hasMessageContaining("2 of at most 2 let in");
        assertThat(bounded.decode(Unpooled.wrappedBuffer(point), c)).as("no new definition").isInstanceOf(Message.Reply.class);
    }

    private byte[] encode(Message m) {
        ByteBuf buf = Unpooled.buffer();
        try {
            codec.encode(m, buf);
            return io.netty.buffer.ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    private Message decode(String hex) {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex(hex));
        try {
            return codec.decode(buf);
        } finally {
            buf.release();
        }
    }

    private void decodeQuietly(byte[] input) {
        ByteBuf buf = Unpooled.wrappedBuffer(input);
        try {
            codec.decode(buf);
        } catch (CodecException refused) {
            // refusing is fine; what it cost is the question
        } finally {
            buf.release();
        }
    }
}
