package io.jcircuit.codec;

import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.memory.Platform;
import org.apache.fory.serializer.StringSerializer;

import java.nio.charset.StandardCharsets;

/**
 * Reads that check what a peer sent before trusting it: counts against the bytes left, and strings
 * in Fory's Java string layout against their coder. Every method throws {@link CodecException} on
 * bytes that could not have been written by a sound encoder, and allocates at most in proportion to
 * the bytes it consumes.
 *
 * <p>Fory's Java string layout, as {@code Fory.writeString} writes it:
 * <pre>
 *  | varuint36 header = byteCount &lt;&lt; 2 | coder | byteCount bytes |
 *    coder 0: Latin-1, one byte a char;  1: UTF-16LE, two bytes a char;  2: UTF-8;  3: none such
 * </pre>
 */
final class WireReads {

    static final int LATIN1 = 0;
    static final int UTF16 = 1;
    static final int UTF8 = 2;

    /** Error texts quote at most this many chars of a string that came off the wire. */
    private static final int MAX_QUOTED_CHARS = 200;

    // String's own fields, read as Fory's StringSerializer reads and writes them (JDK 9+ layout).
    private static final long STRING_CODER_OFFSET = stringFieldOffset("coder");
    private static final long STRING_VALUE_OFFSET = stringFieldOffset("value");
    /** Whether this JVM compacts strings (no {@code -XX:-CompactStrings}): then Latin-1 text has coder 0. */
    private static final boolean COMPACT_STRINGS = Platform.getByte("a", STRING_CODER_OFFSET) == LATIN1;

    private WireReads() {
    }

    /**
     * Reads a string written by {@code Fory.writeString}, refusing an unknown coder, a byte count past
     * the end of the input and UTF-16 of an odd byte count. The result is a sound, canonical
     * {@link String}: UTF-16 text whose chars all fit Latin-1 (what a peer running with
     * {@code -XX:-CompactStrings} sends) becomes a Latin-1 string, so it {@code equals} the same text
     * written here.
     */
    static String readString(MemoryBuffer buffer, String what) {
        long header = buffer.readVarUint36Small();
        int coder = (int) (header & 0b11);
        long byteCount = header >>> 2;
        if (byteCount > buffer.remaining()) {
            throw new CodecException(what + " claims " + byteCount + " bytes but " + buffer.remaining() + " remain");
        }
        int n = (int) byteCount;
        return switch (coder) {
            case LATIN1 -> decode(buffer, n, StandardCharsets.ISO_8859_1);
            case UTF8 -> decode(buffer, n, StandardCharsets.UTF_8);
            case UTF16 -> readUtf16(buffer, n, what);
            default -> throw new CodecException(what + " has string coder " + coder + ", which does not exist");
        };
    }

    private static String decode(MemoryBuffer buffer, int n, java.nio.charset.Charset charset) {
        byte[] heap = buffer.getHeapMemory();
        String s;
        if (heap != null) {
            s = new String(heap, buffer._unsafeHeapReaderIndex(), n, charset);
            buffer.increaseReaderIndex(n);
        } else {
            s = new String(buffer.readBytes(n), charset);
        }
        return s;
    }

    /**
     * UTF-16 as Fory writes it (the string's own bytes), unpaired surrogates kept (a Java string may
     * hold them): as Fory builds it, around a copy of the bytes, once they are known to fit the coder;
     * Latin-1 text becomes a Latin-1 string.
     */
    private static String readUtf16(MemoryBuffer buffer, int n, String what) {
        if ((n & 1) != 0) {
            throw new CodecException(what + " is UTF-16 of an odd byte count, " + n);
        }
        byte[] bytes = buffer.readBytes(n);
        if (COMPACT_STRINGS && isLatin1Utf16(bytes)) {
            return new String(bytes, StandardCharsets.UTF_16LE); // compacts to Latin-1 (a -XX:-CompactStrings peer)
        }
        return StringSerializer.newBytesStringZeroCopy((byte) UTF16, bytes);
    }

    /** Whether every char fits Latin-1: the high bytes, little-endian as String holds them on x86 and AArch64, are all 0. */
    private static boolean isLatin1Utf16(byte[] utf16le) {
        for (int i = 1; i < utf16le.length; i += 2) {
            if (utf16le[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Peeks at the unsigned varint (as {@code MemoryBuffer.readVarUint32Small7} reads it) at the
     * reader index without consuming it, and checks that what follows it could hold {@code count}
     * elements of at least {@code minBytesEach} bytes, where {@code count} is the varint shifted right
     * by {@code shift}. Returns the count. Allocates nothing unless it throws.
     */
    static long checkCount(MemoryBuffer buffer, int shift, int minBytesEach, Class<?> type) {
        int index = buffer.readerIndex();
        int size = buffer.size();
        long value = 0;
        int length = 0;
        while (true) {
            if (index + length >= size || length == 5) {
                throw new CodecException("truncated or overlong element count of a " + type.getTypeName());
            }
            int b = buffer.getByte(index + length);
            value |= (long) (b & 0x7f) << (7 * length);
            length++;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        value &= 0xffffffffL;
        long count = value >>> shift;
        long left = (long) size - index - length;
        if (count * minBytesEach > left) {
            throw new CodecException("a " + type.getTypeName() + " claims " + count + " elements but only " + left + " bytes remain");
        }
        return count;
    }

    /**
     * Checks a string that Fory built from a peer's bytes where the codec or the runtime relies on it,
     * and returns it canonical: refuses one whose bytes do not fit its coder (see
     * {@link #hasSoundCoder}), and turns UTF-16-coded Latin-1 text (what a {@code -XX:-CompactStrings}
     * peer sends) into a Latin-1 string, so it {@code equals} the same text made here. Allocates only
     * in that last case.
     */
    static String checkDecoded(String s, String what) {
        if (s == null) {
            return null;
        }
        if (!hasSoundCoder(s)) {
            throw new CodecException(what + " is a string whose bytes do not fit its coder");
        }
        return canonical(s);
    }

    /** {@code s}, of a sound coder, as a Latin-1 string when it is UTF-16-coded Latin-1 text. */
    static String canonical(String s) {
        if (COMPACT_STRINGS && Platform.getByte(s, STRING_CODER_OFFSET) == UTF16) {
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) > 0xff) {
                    return s;
                }
            }
            return new String(s.toCharArray()); // compacts to Latin-1
        }
        return s;
    }

    /**
     * Whether the bytes of {@code s} fit its coder, as in every string the JDK builds: coder 0
     * (Latin-1, on a JVM that compacts strings) or coder 1 (UTF-16) of an even byte count. Fory 0.13's
     * {@code StringSerializer} builds strings around the coder and bytes it read without this check;
     * such a string's {@code length()} disagrees with its chars, and {@code concat}, {@code substring}
     * and the like throw {@link IndexOutOfBoundsException} or make more such strings. Reads two fields
     * of {@code s}; allocates nothing.
     */
    static boolean hasSoundCoder(String s) {
        byte coder = Platform.getByte(s, STRING_CODER_OFFSET);
        if (coder == LATIN1 && COMPACT_STRINGS) {
            return true;
        }
        return (coder == LATIN1 || coder == UTF16) && (((byte[]) Platform.getObject(s, STRING_VALUE_OFFSET)).length & 1) == 0;
    }

    private static long stringFieldOffset(String name) {
        try {
            return Platform.objectFieldOffset(String.class.getDeclaredField(name));
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("java.lang.String has no field " + name + ": a JDK Fory 0.13 does not support", e);
        }
    }

    /**
     * A string safe to put into an error text: a copy through {@code toCharArray} (which reads within
     * the string's array even when Fory built it with a wrong coder), cut to a readable length.
     */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        try {
            char[] chars = s.toCharArray();
            int n = Math.min(chars.length, MAX_QUOTED_CHARS);
            return new String(chars, 0, n) + (chars.length > n ? "…(" + chars.length + " chars)" : "");
        } catch (RuntimeException unreadable) {
            return "<unreadable text>";
        }
    }

    /**
     * Whether {@code s} keeps String's invariants: its chars, its length and a concatenation of it
     * agree. A string Fory built from bytes that do not fit their coder fails this.
     */
    static boolean isSound(String s) {
        if (s == null) {
            return true;
        }
        try {
            char[] chars = s.toCharArray();
            if (chars.length != s.length()) {
                return false;
            }
            String joined = s + "|";
            return joined.length() == chars.length + 1 && joined.charAt(chars.length) == '|'
                && joined.regionMatches(0, new String(chars), 0, chars.length);
        } catch (RuntimeException broken) {
            return false;
        }
    }
}
