package io.jcircuit;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The identity of one runtime: {@code R} followed by 16 lower-case hex digits, as the Go Circuit
 * prints its worker ids.
 *
 * <p>A new id is drawn at random when a runtime starts, so a runtime that restarts on the same
 * address is a different worker. Ids are never zero.
 */
public record WorkerId(long value) implements Comparable<WorkerId> {

    private static final int HEX_DIGITS = 16;

    public WorkerId {
        if (value == 0) {
            throw new IllegalArgumentException("worker id 0 is reserved for 'no worker'");
        }
    }

    /** Draws a fresh random id. */
    public static WorkerId random() {
        long v;
        do {
            v = ThreadLocalRandom.current().nextLong();
        } while (v == 0);
        return new WorkerId(v);
    }

    /**
     * Parses the text form {@code R0123456789abcdef}.
     *
     * @throws IllegalArgumentException naming the text when it is not a worker id
     */
    public static WorkerId parse(String text) {
        if (!looksLikeWorkerId(text)) {
            throw new IllegalArgumentException(
                "not a worker id: '" + text + "' (expected R followed by 16 hex digits, e.g. R00000000000000a1)");
        }
        return new WorkerId(Long.parseUnsignedLong(text.substring(1), 16));
    }

    /** True when {@code text} has the shape of a worker id; paths use this to refuse ambiguous names. */
    public static boolean looksLikeWorkerId(String text) {
        if (text == null || text.length() != HEX_DIGITS + 1 || text.charAt(0) != 'R') {
            return false;
        }
        for (int i = 1; i < text.length(); i++) {
            if (Character.digit(text.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    // equals and hashCode written out rather than left to the record's generated ones, which are linked through
    // method handles at their first call: a dozen classes spun in every JVM's start (docs/performance.md)
    @Override
    public boolean equals(Object o) {
        return o instanceof WorkerId w && w.value == value;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(value);
    }

    @Override
    public int compareTo(WorkerId o) {
        return Long.compareUnsigned(value, o.value);
    }

    @Override
    public String toString() {
        String hex = Long.toHexString(value);
        return "R" + "0".repeat(HEX_DIGITS - hex.length()) + hex;
    }
}
