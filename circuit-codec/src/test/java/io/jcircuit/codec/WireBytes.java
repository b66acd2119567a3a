package io.jcircuit.codec;

import io.netty.buffer.ByteBufUtil;

import static org.assertj.core.api.Assertions.assertThat;

/** Edits of encoded messages for tests that feed the codec what a sound encoder would not write. */
final class WireBytes {

    private WireBytes() {
    }

    /** {@code bytes} with the one occurrence of {@code from} replaced by {@code to}. */
    static byte[] replace(byte[] bytes, byte[] from, byte[] to) {
        String hex = ByteBufUtil.hexDump(bytes);
        String f = ByteBufUtil.hexDump(from);
        int at = hex.indexOf(f);
        assertThat(at).as("where %s is in %s", f, hex).isNotNegative().isEven();
        assertThat(hex.indexOf(f, at + 1)).as("a second %s in %s", f, hex).isNegative();
        return java.util.HexFormat.of().parseHex(hex.substring(0, at) + ByteBufUtil.hexDump(to) + hex.substring(at + f.length()));
    }
}
