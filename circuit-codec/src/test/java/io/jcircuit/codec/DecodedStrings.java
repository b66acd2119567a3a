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

    /**
     * The first defective string in {@code m} that the codec must not let through, or null. Each
     * defective string it knowingly lets through (see {@link #isAcceptedGap}) is passed to {@code accepted}.
     */
    static Found findMalformed(Message m, java.util.function.Consumer<Found> accepted) {
        return new Scan(accepted).message(m);
    }

    /** As {@link #findMalformed(Message, java.util.function.Consumer)}, counting none of the accepted ones. */
    static Found findMalformed(Message m) {
        return findMalformed(m, found -> { });
    }

    /**
     * Whether the codec knowingly lets a defective string at {@code path} through: one nested inside
     * a call's arguments, a reply's value or a function ({@code args[0].name}, {@code value.keys[3]},
     * {@code fn...}), not the arguments or the reply themselves ({@code args[0]}, {@code value}).
     *
     * <p>Why this is accepted, narrowly: such strings are built by Fory 0.13's final
     * {@code StringSerializer}, which Fory and its generated serializers call directly, so the codec
     * cannot check them as they are read; checking them after the read means walking the whole
     * decoded graph on every message. A broken string is not a memory hazard (the JDK bounds-checks
     * its arrays): its {@code length()} disagrees with its chars, so {@code concat}, {@code substring}
     * and the like can throw {@link IndexOutOfBoundsException} or make more garbled strings, in the
     * code that uses that value. That code already gets whatever object graph the peer chose (Fory
     * sets fields without running constructors), so an unsound value from an unsound peer is the
     * receiving code's to survive. What the runtime itself relies on is checked and stays a finding
     * here: method and service names, the arguments and the reply themselves, and every string of a
     * {@link RemoteFailure}. (A NOT_CANONICAL string nested there is the same gap, milder: it prints
     * right but {@code equals} no string made here.)
     */
    static boolean isAcceptedGap(Found found) {
        String p = found.path();
        return p.startsWith("fn") || p.startsWith("value.") || p.startsWith("value[")
            || p.startsWith("args[") && p.indexOf(']') + 1 < p.length();
    }

    /** One walk over a message: the first defect not accepted, and each accepted one on the way. */
    private record Scan(java.util.function.Consumer<Found> accepted) {

        Found message(Message m) {
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

        private Found check(String path, String s) {
            Defect d = s == null ? null : defect(s);
            if (d == null) {
                return null;
            }
            Found found = new Found(d, path);
            if (isAcceptedGap(found)) {
                accepted.accept(found);
                return null;
            }
            return found;
        }

        private Found walk(String path, Object o, int depth) {
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

        private Found walkAll(String path, Collection<?> items, int depth) {
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

        private Found walkRecord(String path, Record r, int depth) {
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

    private static Found first(Found a, Found b) {
        return a != null ? a : b;
    }
}
