package io.jcircuit.codec;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Makes fuzz inputs: purely random bytes, random bodies behind a well-formed prefix, and mutations of
 * valid encodings (bit flips, interesting values, truncations, insertions, deletions, duplicated
 * slices, splices of two messages, and stacks of these).
 *
 * <p>Each input is a function of the generator handed in, so an input is reproduced by reseeding
 * the generator the same way (see {@link MessageCodecFuzzTest}).
 */
final class FuzzMutator {

    /** The longest input made of random bytes. */
    static final int MAX_RANDOM_LENGTH = 4096;

    private static final byte[] INTERESTING_BYTES = {0, (byte) 0xFF, 0x7F, (byte) 0x80, 1, (byte) 0xFE, (byte) 0x81, 0x40};

    /**
     * Multi-byte values that length and count fields choke on: extreme ints and longs in both byte
     * orders, and large numbers in the little-endian base-128 varints that Fory writes lengths in.
     */
    private static final List<byte[]> INTERESTING_RUNS = List.of(
        new byte[] {0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
        new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F},
        new byte[] {(byte) 0x80, 0, 0, 0},
        new byte[] {0, 0, 0, (byte) 0x80},
        new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
        new byte[] {0, 0, 0x10, 0},
        new byte[] {0, 0x10, 0, 0},
        new byte[] {0x40, 0, 0, 0},
        new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07},
        new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04},
        new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, 0x40},
        new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0x03},
        new byte[] {(byte) 0x80, (byte) 0x80, 0x04},
        new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F},
        new byte[] {0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
        new byte[] {(byte) 0x80, 0, 0, 0, 0, 0, 0, 0});

    private final List<byte[]> corpus;

    FuzzMutator(List<byte[]> corpus) {
        this.corpus = List.copyOf(corpus);
    }

    /** One input: 10% random bytes, 10% random bodies behind a valid prefix, the rest mutations. */
    byte[] next(SplittableRandom r) {
        int pick = r.nextInt(20);
        if (pick < 2) {
            return randomBytes(r, r.nextInt(MAX_RANDOM_LENGTH + 1));
        }
        if (pick < 4) {
            return randomBehindPrefix(r);
        }
        byte[] input = seed(r);
        int rounds = pick < 12 ? 1 : 2 + r.nextInt(4);
        for (int i = 0; i < rounds; i++) {
            input = mutate(r, input);
        }
        return input;
    }

    private byte[] seed(SplittableRandom r) {
        return corpus.get(r.nextInt(corpus.size())).clone();
    }

    /** A valid kind (or one just outside the valid ones) and call id, then random bytes. */
    private static byte[] randomBehindPrefix(SplittableRandom r) {
        byte[] b = randomBytes(r, MessageCodec.PREFIX_LENGTH + r.nextInt(512));
        b[0] = (byte) r.nextInt(9);
        return b;
    }

    private static byte[] randomBytes(SplittableRandom r, int length) {
        byte[] b = new byte[length];
        r.nextBytes(b);
        return b;
    }

    private byte[] mutate(SplittableRandom r, byte[] in) {
        return switch (r.nextInt(10)) {
            case 0 -> flipBits(r, in);
            case 1 -> replaceByte(r, in);
            case 2 -> overwriteRun(r, in);
            case 3 -> truncate(r, in);
            case 4 -> insert(r, in, randomBytes(r, 1 + r.nextInt(16)));
            case 5 -> insert(r, in, INTERESTING_RUNS.get(r.nextInt(INTERESTING_RUNS.size())));
            case 6 -> duplicateSlice(r, in);
            case 7 -> deleteSlice(r, in);
            case 8 -> splice(r, in, seed(r));
            default -> overwriteLength(r, in);
        };
    }

    private static byte[] flipBits(SplittableRandom r, byte[] in) {
        if (in.length == 0) {
            return in;
        }
        for (int n = 1 + r.nextInt(8); n > 0; n--) {
            int bit = r.nextInt(in.length * 8);
            in[bit >>> 3] ^= (byte) (1 << (bit & 7));
        }
        return in;
    }

    private static byte[] replaceByte(SplittableRandom r, byte[] in) {
        if (in.length > 0) {
            in[r.nextInt(in.length)] = INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)];
        }
        return in;
    }

    private static byte[] overwriteRun(SplittableRandom r, byte[] in) {
        byte[] run = INTERESTING_RUNS.get(r.nextInt(INTERESTING_RUNS.size()));
        if (in.length < run.length) {
            return in;
        }
        System.arraycopy(run, 0, in, r.nextInt(in.length - run.length + 1), run.length);
        return in;
    }

    /** Writes a length near the input's own (or a power of two) as a varint or a big-endian int. */
    private static byte[] overwriteLength(SplittableRandom r, byte[] in) {
        int[] lengths = {in.length, in.length - 1, in.length + 1, in.length * 2, 4096, 65536, 1 << 24};
        int value = lengths[r.nextInt(lengths.length)];
        byte[] run = r.nextBoolean() ? varint(value) : new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        if (in.length < run.length) {
            return in;
        }
        System.arraycopy(run, 0, in, r.nextInt(in.length - run.length + 1), run.length);
        return in;
    }

    private static byte[] varint(int value) {
        byte[] out = new byte[5];
        int n = 0;
        int v = value;
        while ((v & ~0x7F) != 0) {
            out[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[n++] = (byte) v;
        return Arrays.copyOf(out, n);
    }

    private static byte[] truncate(SplittableRandom r, byte[] in) {
        return in.length == 0 ? in : Arrays.copyOf(in, r.nextInt(in.length));
    }

    private static byte[] insert(SplittableRandom r, byte[] in, byte[] what) {
        int at = r.nextInt(in.length + 1);
        byte[] out = new byte[in.length + what.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(in, at, out, at + what.length, in.length - at);
        return out;
    }

    private static byte[] duplicateSlice(SplittableRandom r, byte[] in) {
        if (in.length == 0) {
            return in;
        }
        int from = r.nextInt(in.length);
        int to = from + 1 + r.nextInt(Math.min(64, in.length - from));
        return insert(r, in, Arrays.copyOfRange(in, from, to));
    }

    private static byte[] deleteSlice(SplittableRandom r, byte[] in) {
        if (in.length == 0) {
            return in;
        }
        int from = r.nextInt(in.length);
        int to = from + 1 + r.nextInt(Math.min(64, in.length - from));
        byte[] out = new byte[in.length - (to - from)];
        System.arraycopy(in, 0, out, 0, from);
        System.arraycopy(in, to, out, from, in.length - to);
        return out;
    }

    /** The start of one message followed by the end of another. */
    private static byte[] splice(SplittableRandom r, byte[] a, byte[] b) {
        int cutA = r.nextInt(a.length + 1);
        int cutB = r.nextInt(b.length + 1);
        byte[] out = Arrays.copyOf(a, cutA + b.length - cutB);
        System.arraycopy(b, cutB, out, cutA, b.length - cutB);
        return out;
    }
}
