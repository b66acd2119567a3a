package io.jcircuit.codec;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Finds strings in a decoded message that break {@link String}'s invariants. Fory builds strings
 * around the bytes it read without copying, trusting the coder and length it read with them; a
 * string whose bytes do not match its coder answers {@code length()} wrongly, and concatenating it
 * overwrites or leaves uninitialised parts of the result.
 */
final class DecodedStrings {

    private static final int MAX_DEPTH = 6;
    private static final int MAX_ELEMENTS = 64;

    private DecodedStrings() {
    }

    /** What is wrong with a string, from worst to mildest. */
    enum Defect {
        /** Its length, its chars and a concatenation of it disagree: bytes that do not fit its coder. */
        BROKEN,
        /** It behaves, but is not {@code equals} to the same chars: UTF-16 coded though all its chars are Latin-1. */
        NOT_CANONICAL
    }

    /** A defective string and where it sits in the message, e.g. {@code "args[0].name"}. */
    record Found(Defect defect, String path) {
    }

    /** The first defective string in {@code m}, or null. */
    static Found findMalformed(Message m) {
        return switch (m) {
            case Message.Call c -> first(check("method", c.method()), walk("args", c.args(), 0));
            case Message.Lookup l -> check("service", l.service());
            case Message.Reply r -> walk("value", r.value(), 0);
            case Message.Failure f -> walk("failure", f.failure(), 0);
            case Message.Go g -> walk("fn", g.fn(), 0);
            case Message.Acquire a -> null;
            case Message.Release r -> null;
        };
    }

    /** What is wrong with {@code s}, or null when it is a sound string. */
    static Defect defect(String s) {
        try {
            char[] chars = s.toCharArray();
            String joined = s + "|#";
            if (chars.length != s.length() || joined.length() != s.length() + 2 || !joined.endsWith("|#")
                || !joined.startsWith(new String(chars))) {
                return Defect.BROKEN;
            }
            return new String(chars).equals(s) ? null : Defect.NOT_CANONICAL;
        } catch (RuntimeException e) {
            return Defect.BROKEN;
        }
    }

    private static Found check(String path, String s) {
        Defect d = s == null ? null : defect(s);
        return d == null ? null : new Found(d, path);
    }

    private static Found first(Found a, Found b) {
        return a != null ? a : b;
    }

    private static Found walk(String path, Object o, int depth) {
        if (o == null || depth > MAX_DEPTH) {
            return null;
        }
        return switch (o) {
            case String s -> check(path, s);
            case Object[] array -> walkAll(path, java.util.Arrays.asList(array), depth);
            case Collection<?> c -> walkAll(path, c, depth);
            case Map<?, ?> map -> first(walkAll(path + ".keys", map.keySet(), depth), walkAll(path + ".values", map.values(), depth));
            case Optional<?> opt -> walk(path + ".get", opt.orElse(null), depth + 1);
            case Record r -> walkRecord(path, r, depth);
            default -> null;
        };
    }

    private static Found walkAll(String path, Collection<?> items, int depth) {
        int i = 0;
        try {
            for (Object item : items) {
                if (i >= MAX_ELEMENTS) {
                    return null;
                }
                Found found = walk(path + "[" + i++ + "]", item, depth + 1);
                if (found != null) {
                    return found;
                }
            }
        } catch (RuntimeException brokenCollection) {
            return null; // a collection Fory filled in an unexpected state: not what this looks for
        }
        return null;
    }

    private static Found walkRecord(String path, Record r, int depth) {
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object value;
            try {
                c.getAccessor().setAccessible(true);
                value = c.getAccessor().invoke(r);
            } catch (ReflectiveOperationException | RuntimeException inaccessible) {
                continue;
            }
            Found found = walk(path + "." + c.getName(), value, depth + 1);
            if (found != null) {
                return found;
            }
        }
        return null;
    }
}
