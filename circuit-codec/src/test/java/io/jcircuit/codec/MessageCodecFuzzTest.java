package io.jcircuit.codec;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Feeds {@link MessageCodec#decode} random bytes and mutations of valid encodings of every message
 * kind, and checks that each input either decodes or is refused with a {@link CodecException}, in
 * bounded time and with bounded allocation.
 *
 * <p>System properties:
 * <ul>
 *   <li>{@code fuzz.seed} (decimal or 0x-hex) replaces the fixed default seed; it is printed.</li>
 *   <li>{@code fuzz.iterations} is the number of inputs (default {@value #DEFAULT_ITERATIONS}).</li>
 *   <li>{@code fuzz.start} is the index of the first input: input {@code i} depends only on the seed
 *       and {@code i}, so {@code -Dfuzz.start=i -Dfuzz.iterations=1} replays a reported input.</li>
 *   <li>{@code fuzz.timeoutSeconds} bounds the whole run (default: generous for the iteration count).</li>
 *   <li>{@code fuzz.hangSeconds} is how long one decode may run before it counts as hung (default 30).</li>
 * </ul>
 * Each input is decoded from a heap buffer (at an offset inside a larger array), a direct buffer or
 * a composite buffer in turn, since {@link MessageCodec} reads each of them differently. A decode
 * that hangs ends the run, reporting the input and where it spins; the report says how to resume
 * after it.
 */
@Tag("slow")
class MessageCodecFuzzTest {

    static final long DEFAULT_SEED = 0x5EED_C0DEC_0001L;
    /**
     * About 15 s on a shared 2-core machine: 1 to 2 ms per input, since most inputs are malformed and
     * the codec builds a new Fory instance after each one.
     */
    static final int DEFAULT_ITERATIONS = 10_000;

    /** A single decode of n bytes may allocate at most this plus {@link #ALLOCATION_PER_INPUT_BYTE}·n. */
    static final long ALLOCATION_BASE_BYTES = 1 << 20;
    static final long ALLOCATION_PER_INPUT_BYTE = 64;
    /** More than any one-time cost of meeting a class (see {@link #run}). */
    static final long WARM_UP_ALLOCATION_LIMIT = 64L << 20;
    /** Generous: JIT and GC pauses on a shared machine stay far below it; a hang or a blow-up does not. */
    static final long SINGLE_DECODE_LIMIT_NANOS = Duration.ofSeconds(2).toNanos();
    /**
     * A decode still running after this long (30 s, or {@code -Dfuzz.hangSeconds}) is taken for hung,
     * and ends the run (see {@link #runWatched}).
     */
    static final long HANG_LIMIT_NANOS = Duration.ofSeconds(Long.getLong("fuzz.hangSeconds", 30)).toNanos();

    /** A long run prints a line this often. */
    private static final long PROGRESS_INTERVAL_NANOS = Duration.ofMinutes(1).toNanos();

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static final Logger FORY_LOG = (Logger) LoggerFactory.getLogger("org.apache.fory");
    private static Level foryLevel;

    private volatile InFlight inFlight;
    private volatile boolean stopped;

    private final MessageCodec codec = new MessageCodec(getClass().getClassLoader(), FuzzCorpus.REFS);
    private final ByteBuf direct = Unpooled.directBuffer(2 * FuzzMutator.MAX_RANDOM_LENGTH + 1024);

    /** Fory warns about every unknown class id it meets, and mutated inputs name thousands. */
    @BeforeAll
    static void quietFory() {
        foryLevel = FORY_LOG.getLevel();
        FORY_LOG.setLevel(Level.ERROR);
    }

    @AfterAll
    static void restoreFory() {
        FORY_LOG.setLevel(foryLevel);
    }

    @AfterEach
    void releaseDirectBuffer() {
        direct.release();
    }

    @Test
    void shouldDecodeEveryInputOrRefuseItWithACodecExceptionInBoundedTimeAndMemory() {
        long seed = Long.decode(System.getProperty("fuzz.seed", "0x" + Long.toHexString(DEFAULT_SEED)));
        int iterations = Integer.getInteger("fuzz.iterations", DEFAULT_ITERATIONS);
        long start = Long.getLong("fuzz.start", 0L);
        Duration limit = Duration.ofSeconds(Long.getLong("fuzz.timeoutSeconds", 60 + iterations / 100));
        assertThat(THREADS.isThreadAllocatedMemoryEnabled()).as("per-thread allocation accounting").isTrue();
        FuzzMutator mutator = new FuzzMutator(FuzzCorpus.encodings(codec));
        FuzzReport report = new FuzzReport(seed, start, ALLOCATION_BASE_BYTES, ALLOCATION_PER_INPUT_BYTE, SINGLE_DECODE_LIMIT_NANOS);
        System.out.printf("fuzzing MessageCodec.decode: -Dfuzz.seed=0x%x -Dfuzz.start=%d -Dfuzz.iterations=%d (limit %s)%n",
            seed, start, iterations, limit);

        long t0 = System.nanoTime();
        assertTimeoutPreemptively(limit, () -> runWatched(mutator, report, seed, start, iterations),
            () -> "fuzzing did not finish within " + limit + "; so far:\n" + report.findingsText());
        report.finish(System.nanoTime() - t0);

        System.out.println(report.summary());
        assertThat(report.findings()).as(report.findingsText()).isEmpty();
        assertThat(report.decoded()).as("inputs decoded into messages (the mutations are too destructive otherwise)")
            .isPositive();
    }

    /**
     * Runs the inputs on a thread of their own and watches it: a decode that runs past
     * {@link #HANG_LIMIT_NANOS} is reported as hung and the run stops there. A Java thread cannot be
     * stopped, so the hung one is left behind, spinning; it is a daemon and does not keep the JVM up.
     */
    private void runWatched(FuzzMutator mutator, FuzzReport report, long seed, long start, int iterations) throws Throwable {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread fuzzer = Thread.ofPlatform().daemon().name("fuzz-decode").start(() -> {
            try {
                run(mutator, report, seed, start, iterations);
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        try {
            while (!fuzzer.join(Duration.ofSeconds(1))) {
                InFlight f = inFlight;
                if (f != null && System.nanoTime() - f.startNanos() > HANG_LIMIT_NANOS) {
                    stopped = true;
                    report.hung(f.iteration(), f.input(), HANG_LIMIT_NANOS, fuzzer.getStackTrace());
                    return;
                }
            }
        } finally {
            fuzzer.interrupt(); // ends the loop at its next input when the overall limit has passed
        }
        if (failed.get() != null) {
            throw failed.get();
        }
    }

    private void run(FuzzMutator mutator, FuzzReport report, long seed, long start, int iterations) {
        long nextProgress = System.nanoTime() + PROGRESS_INTERVAL_NANOS;
        for (long i = start; i < start + iterations && !Thread.currentThread().isInterrupted() && !stopped; i++) {
            if (System.nanoTime() > nextProgress) {
                System.out.println(report.progress(iterations));
                nextProgress += PROGRESS_INTERVAL_NANOS;
            }
            byte[] input = mutator.next(new SplittableRandom(inputSeed(seed, i)));
            int shape = (int) (i % 3);
            inFlight = new InFlight(i, input, System.nanoTime());
            Outcome first = decodeOnce(input, shape);
            long nanos = first.nanos();
            long allocated = first.allocated();
            // The first decode in this JVM that meets a class pays for loading it and generating its
            // serializer class (up to ~20 MB and hundreds of ms, once). What an input costs is what it
            // costs again: over a bound, decode it once more and keep the lesser cost. Beyond
            // WARM_UP_ALLOCATION_LIMIT no warm-up explains it, and a second multi-GB decode only costs time.
            if ((allocated > report.allocationBound(input.length) && allocated < WARM_UP_ALLOCATION_LIMIT)
                || nanos > SINGLE_DECODE_LIMIT_NANOS) {
                inFlight = new InFlight(i, input, System.nanoTime());
                Outcome again = decodeOnce(input, shape);
                nanos = Math.min(nanos, again.nanos());
                allocated = Math.min(allocated, again.allocated());
            }
            inFlight = null;
            report.record(i, input, first.message(), first.thrown(), first.nanos(), first.allocated(), nanos, allocated);
        }
    }

    /** The input being decoded and since when, for the watchdog. */
    private record InFlight(long iteration, byte[] input, long startNanos) {
    }

    /** What one decode returned or threw, how long it took and how many bytes it allocated. */
    private record Outcome(Message message, Throwable thrown, long nanos, long allocated) {
    }

    /** Decodes one input, measuring only the decode itself. */
    private Outcome decodeOnce(byte[] input, int shape) {
        ByteBuf buf = view(input, shape);
        try {
            Message m = null;
            Throwable thrown = null;
            long allocated0 = THREADS.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            try {
                m = codec.decode(buf);
            } catch (Throwable t) { // on purpose: an Error escaping the codec is what this test looks for
                thrown = t;
            }
            long nanos = System.nanoTime() - t0;
            return new Outcome(m, thrown, nanos, THREADS.getCurrentThreadAllocatedBytes() - allocated0);
        } finally {
            if (buf != direct) {
                buf.release();
            }
        }
    }

    /** The same bytes, read the three ways the codec distinguishes: array, native address, copy. */
    private ByteBuf view(byte[] input, int shape) {
        return switch (shape) {
            case 0 -> {
                byte[] padded = new byte[input.length + 16];
                java.util.Arrays.fill(padded, (byte) 0xA5); // junk on both sides: the slice must bound the reads
                System.arraycopy(input, 0, padded, 8, input.length);
                yield Unpooled.wrappedBuffer(padded, 8, input.length);
            }
            case 1 -> direct.clear().writeBytes(input);
            default -> {
                int half = input.length / 2;
                yield Unpooled.wrappedBuffer(Unpooled.copiedBuffer(input, 0, half),
                    Unpooled.copiedBuffer(input, half, input.length - half));
            }
        };
    }

    /** SplitMix64 of seed and index, so that each input can be replayed on its own. */
    static long inputSeed(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
