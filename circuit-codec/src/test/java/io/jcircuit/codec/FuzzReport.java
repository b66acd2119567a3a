package io.jcircuit.codec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a fuzz run of {@link MessageCodec#decode} saw: outcome counts, the slowest decode, the worst
 * allocation against its bound, and the findings (inputs that broke the contract), grouped by kind of
 * failure with the shortest input of each group kept for replay. Used by one thread at a time.
 */
final class FuzzReport {

    /** A contract violation and how often it happened; {@code input} is the shortest input that showed it. */
    static final class Finding {
        final String signature;
        long count;
        long iteration;
        byte[] input;
        String detail;
        Throwable thrown;

        Finding(String signature) {
            this.signature = signature;
        }
    }

    private final long seed;
    private final long start;
    private final long allocationBase;
    private final long allocationPerByte;
    private final long slowLimitNanos;

    private final Map<String, Finding> findings = new LinkedHashMap<>();
    private final Map<String, Long> decodedByKind = new TreeMap<>();
    private final Map<String, Long> refusedByRootCause = new TreeMap<>();
    /** Defective strings nested in values, which the codec knowingly lets through (DecodedStrings.isAcceptedGap). */
    private final Map<String, Long> acceptedStrings = new TreeMap<>();
    private long firstAcceptedIteration = -1;
    private long inputs;
    private long decoded;
    private long refused;
    private long inputBytes;
    private long decodeNanos;
    private long elapsedNanos;
    private long slowestNanos;
    private long slowestIteration;
    private int slowestLength;
    private double worstRatio;
    private long worstAllocated;
    private long worstIteration;
    private int worstLength;
    private long maxAllocated;
    private long coldSlowestNanos;
    private long coldSlowestIteration;
    private long coldMaxAllocated;
    private long coldMaxIteration;
    private long hungAt = -1;

    FuzzReport(long seed, long start, long allocationBase, long allocationPerByte, long slowLimitNanos) {
        this.seed = seed;
        this.start = start;
        this.allocationBase = allocationBase;
        this.allocationPerByte = allocationPerByte;
        this.slowLimitNanos = slowLimitNanos;
    }

    /** The most one decode of {@code inputLength} bytes may allocate. */
    long allocationBound(int inputLength) {
        return allocationBase + allocationPerByte * inputLength;
    }

    /**
     * Records one input: what its first decode returned or threw, and what that decode cost
     * ({@code coldNanos}, {@code coldAllocated}) beside what the input costs once warm (the least of
     * its decodes; the same when it was decoded once).
     */
    void record(long iteration, byte[] input, Message m, Throwable thrown, long coldNanos, long coldAllocated,
                long nanos, long allocated) {
        inputs++;
        inputBytes += input.length;
        decodeNanos += coldNanos;
        if (coldNanos > coldSlowestNanos) {
            coldSlowestNanos = coldNanos;
            coldSlowestIteration = iteration;
        }
        if (coldAllocated > coldMaxAllocated) {
            coldMaxAllocated = coldAllocated;
            coldMaxIteration = iteration;
        }
        String kind = input.length == 0 ? "none" : Byte.toString(input[0]);
        if (thrown instanceof CodecException e) {
            refused++;
            refusedByRootCause.merge(rootCause(e).getClass().getSimpleName(), 1L, Long::sum);
        } else if (thrown != null) {
            find("escaped " + thrown.getClass().getName() + " " + topFrame(thrown), iteration, input, describe(thrown), thrown);
        } else if (m == null) {
            find("decode returned null (kind " + kind + ")", iteration, input, "", null);
        } else {
            decoded++;
            decodedByKind.merge(m.getClass().getSimpleName(), 1L, Long::sum);
            if (kindOf(m) != input[0]) {
                find("decoded a " + m.getClass().getSimpleName() + " from kind " + kind, iteration, input, describe(m), null);
            }
            DecodedStrings.Found malformed = DecodedStrings.findMalformed(m, accepted -> {
                acceptedStrings.merge(accepted.defect() + " in a " + m.getClass().getSimpleName(), 1L, Long::sum);
                if (firstAcceptedIteration < 0) {
                    firstAcceptedIteration = iteration;
                }
            });
            if (malformed != null) {
                find("decoded a " + malformed.defect() + " java.lang.String into a " + m.getClass().getSimpleName(), iteration,
                    input, "at " + malformed.path(), null);
            }
        }
        String outcome = m != null ? "decoded" : thrown instanceof CodecException e ? "refused: " + origin(rootCause(e)) : "escaped";
        timing(iteration, input, kind, outcome, nanos);
        allocation(iteration, input, kind, outcome, allocated);
    }

    private void timing(long iteration, byte[] input, String kind, String outcome, long nanos) {
        if (nanos > slowestNanos) {
            slowestNanos = nanos;
            slowestIteration = iteration;
            slowestLength = input.length;
        }
        if (nanos > slowLimitNanos) {
            find("decode slower than " + slowLimitNanos / 1_000_000 + " ms (kind " + kind + ", " + outcome + ")", iteration, input,
                nanos / 1_000_000 + " ms", null);
        }
    }

    private void allocation(long iteration, byte[] input, String kind, String outcome, long allocated) {
        long bound = allocationBound(input.length);
        double ratio = (double) allocated / bound;
        maxAllocated = Math.max(maxAllocated, allocated);
        if (ratio > worstRatio) {
            worstRatio = ratio;
            worstAllocated = allocated;
            worstIteration = iteration;
            worstLength = input.length;
        }
        if (allocated > bound) {
            find("decode allocated more than " + allocationBase + " + " + allocationPerByte + "·n bytes (kind " + kind + ", " + outcome + ")",
                iteration, input, allocated + " bytes for " + input.length + " input bytes", null);
        }
    }

    private void find(String signature, long iteration, byte[] input, String detail, Throwable thrown) {
        Finding f = findings.computeIfAbsent(signature, Finding::new);
        f.count++;
        if (f.input == null || input.length < f.input.length) {
            f.iteration = iteration;
            f.input = input.clone();
            f.detail = detail;
            f.thrown = thrown;
        }
    }

    /** A decode of {@code input} still ran after {@code nanos}, at {@code stack}; the run stops here. */
    void hung(long iteration, byte[] input, long nanos, StackTraceElement[] stack) {
        Throwable where = new Throwable("the decoding thread after " + nanos / 1_000_000_000 + " s");
        where.setStackTrace(stack);
        String kind = input.length == 0 ? "none" : Byte.toString(input[0]);
        find("decode did not finish within " + nanos / 1_000_000_000 + " s (kind " + kind + ")", iteration, input,
            "the run stopped here; resume after it with -Dfuzz.start=" + (iteration + 1), where);
        hungAt = iteration;
    }

    void finish(long elapsedNanos) {
        this.elapsedNanos = elapsedNanos;
    }

    List<Finding> findings() {
        return List.copyOf(findings.values());
    }

    long decoded() {
        return decoded;
    }

    /** One line: how far a run of {@code iterations} inputs has got. */
    String progress(int iterations) {
        return String.format("  ... %d of %d inputs, %d decoded, %d findings in %d groups, slowest %.0f ms, worst allocation %.1f× its bound",
            inputs, iterations, decoded, findings.values().stream().mapToLong(f -> f.count).sum(), findings.size(),
            slowestNanos / 1e6, worstRatio);
    }

    String summary() {
        StringBuilder s = new StringBuilder();
        s.append(String.format("seed 0x%x, inputs %d..%d: %d inputs (%d bytes) in %.1f s, %.1f s of it decoding%n",
            seed, start, start + inputs - 1, inputs, inputBytes, elapsedNanos / 1e9, decodeNanos / 1e9));
        s.append(String.format("  decoded %d %s, refused with CodecException %d, findings %d%n",
            decoded, decodedByKind, refused, findings.values().stream().mapToLong(f -> f.count).sum()));
        s.append(String.format("  refusals by root cause: %s%n", refusedByRootCause));
        if (!acceptedStrings.isEmpty()) {
            s.append(String.format("  accepted, not findings: defective strings nested in values %s (first at input %d)%n",
                acceptedStrings, firstAcceptedIteration));
        }
        s.append(String.format("  slowest decode %.3f ms (input %d, %d bytes); %.1f µs per decode on average%n",
            slowestNanos / 1e6, slowestIteration, slowestLength, decodeNanos / 1e3 / Math.max(1, inputs)));
        s.append(String.format("  worst allocation %d bytes for %d input bytes = %.3f of its bound (input %d); most allocated %d bytes%n",
            worstAllocated, worstLength, worstRatio, worstIteration, maxAllocated));
        s.append(String.format("  cold (first decode, before retries): slowest %.3f ms (input %d), most allocated %d bytes (input %d)%n",
            coldSlowestNanos / 1e6, coldSlowestIteration, coldMaxAllocated, coldMaxIteration));
        if (hungAt >= 0) {
            s.append(String.format("  STOPPED: input %d hung; resume with -Dfuzz.start=%d%n", hungAt, hungAt + 1));
        }
        return s.toString();
    }

    String findingsText() {
        StringBuilder s = new StringBuilder(summary());
        for (Finding f : findings.values()) {
            s.append(String.format("%nFINDING: %s, %d times; shortest: -Dfuzz.seed=0x%x -Dfuzz.start=%d -Dfuzz.iterations=1%n",
                f.signature, f.count, seed, f.iteration));
            s.append("  ").append(f.detail).append('\n');
            s.append("  input (").append(f.input.length).append(" bytes): ").append(HexFormat.of().formatHex(f.input)).append('\n');
            if (f.thrown != null) {
                StringWriter trace = new StringWriter();
                f.thrown.printStackTrace(new PrintWriter(trace));
                s.append(trace);
            }
        }
        return s.toString();
    }

    private static byte kindOf(Message m) {
        return switch (m) {
            case Message.Call c -> c.context().isEmpty() ? MessageCodec.KIND_CALL : MessageCodec.KIND_CALL_CTX;
            case Message.Go g -> g.context().isEmpty() ? MessageCodec.KIND_GO : MessageCodec.KIND_GO_CTX;
            case Message.Lookup l -> MessageCodec.KIND_LOOKUP;
            case Message.Acquire a -> MessageCodec.KIND_ACQUIRE;
            case Message.Release r -> MessageCodec.KIND_RELEASE;
            case Message.Reply r -> MessageCodec.KIND_REPLY;
            case Message.Failure f -> MessageCodec.KIND_FAILURE;
        };
    }

    private static Throwable rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }

    /** The exception's class and the frame that threw it, e.g. {@code "IndexOutOfBoundsException at ...MemoryBuffer.readBytes"}. */
    private static String origin(Throwable t) {
        StackTraceElement[] stack = t.getStackTrace();
        String where = stack.length == 0 ? "?" : stack[0].getClassName() + "." + stack[0].getMethodName();
        return t.getClass().getSimpleName() + " at " + where;
    }

    /** The first frame outside the JDK: where the exception left code that is not the JDK's. */
    private static String topFrame(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (!e.getClassName().startsWith("java.") && !e.getClassName().startsWith("jdk.")) {
                return "at " + e;
            }
        }
        return "(no frame outside the JDK)";
    }

    /** {@code o.toString()}, which may itself fail on what the decoder built. */
    private static String describe(Object o) {
        try {
            return String.valueOf(o);
        } catch (RuntimeException e) {
            return "a " + o.getClass().getName() + " whose toString() throws " + e;
        }
    }
}
