package io.jcircuit.codec;

import org.apache.fory.memory.MemoryBuffer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HexFormat;
import java.util.zip.Deflater;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The checked reads beneath {@link MessageCodec}: names, counts and compressed class definitions. */
class WireReadsTest {

    @Test
    void shouldReadLatin1Utf16AndUtf8NamesIntoSoundCanonicalStrings() {
        assertThat(WireReads.readString(buffer("0c616263"), "name")).isEqualTo("abc");       // Latin-1, 3 bytes
        assertThat(WireReads.readString(buffer("19730076006300"), "name")).isEqualTo("svc"); // UTF-16 of Latin-1 text
        assertThat(WireReads.readString(buffer("0e63e298"), "name")).isNotNull();            // UTF-8, malformed: replaced as Fory does
        String loneSurrogate = WireReads.readString(buffer("0900d8"), "name");
        assertThat(loneSurrogate).isEqualTo("\ud800");
        assertThat(WireReads.isSound(loneSurrogate)).isTrue();
    }

    @Test
    void shouldRefuseANameWithNoSuchCoderAnOddUtf16ByteCountOrBytesPastTheEnd() {
        assertThatThrownBy(() -> WireReads.readString(buffer("0f616263"), "the name")).isInstanceOf(CodecException.class)
            .hasMessageContaining("coder 3");
        assertThatThrownBy(() -> WireReads.readString(buffer("0d61626300"), "the name")).isInstanceOf(CodecException.class)
            .hasMessageContaining("odd byte count");
        assertThatThrownBy(() -> WireReads.readString(buffer("fcffffff0761"), "the name")).isInstanceOf(CodecException.class)
            .hasMessageContaining("remain");
    }

    @Test
    void shouldRefuseACountTheRemainingBytesCannotHold() {
        assertThat(WireReads.checkCount(buffer("03010203"), 0, 1, int[].class)).isEqualTo(3);
        assertThatThrownBy(() -> WireReads.checkCount(buffer("ffffffff0f01"), 0, 1, int[].class))
            .isInstanceOf(CodecException.class).hasMessageContaining("int[]");
        assertThatThrownBy(() -> WireReads.checkCount(buffer("ff"), 0, 1, int[].class)).isInstanceOf(CodecException.class);
    }

    @Test
    void shouldRefuseATruncatedCompressedClassDefinitionInsteadOfInflatingForEver() {
        byte[] deflated = deflate(new byte[1000]);
        MetaGuard guard = new MetaGuard();

        assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
            assertThatThrownBy(() -> guard.decompress(deflated, 0, deflated.length / 2))
                .isInstanceOf(CodecException.class).hasMessageContaining("ends early"));
    }

    @Test
    void shouldRefuseACompressedClassDefinitionThatInflatesPastTheBound() {
        byte[] bomb = deflate(new byte[4 * MetaGuard.MAX_CLASS_DEF_BYTES]);

        assertThatThrownBy(() -> new MetaGuard().decompress(bomb, 0, bomb.length))
            .isInstanceOf(CodecException.class).hasMessageContaining("inflates past");
    }

    @Test
    void shouldQuoteAStringForAnErrorTextWithinABound() {
        assertThat(WireReads.quote("x".repeat(1000))).startsWith("xxx").contains("(1000 chars)").hasSizeLessThan(260);
        assertThat(WireReads.quote(null)).isEqualTo("null");
    }

    private static MemoryBuffer buffer(String hex) {
        return MemoryBuffer.fromByteArray(HexFormat.of().parseHex(hex));
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater();
        d.setInput(data);
        d.finish();
        byte[] out = new byte[data.length + 64];
        int n = d.deflate(out);
        d.end();
        return java.util.Arrays.copyOf(out, n);
    }
}
