package io.jcircuit.runtime.ops;

/**
 * What a {@link Profiler} samples, and what one unit of a flame graph's width means.
 *
 * <p>Both engines support {@link #CPU}, {@link #ALLOC} and {@link #LOCK}. {@link #WALL} needs
 * async-profiler: JFR has no sampler for threads that are off the CPU.
 */
public enum ProfileKind {
    /** Threads running on a CPU, sampled about every 10 ms. Width: samples. */
    CPU("samples"),
    /** Allocations, sampled. Width: bytes allocated. */
    ALLOC("bytes"),
    /** Contended monitor entries and parks on {@code java.util.concurrent.locks}. Width: time blocked (ns). */
    LOCK("ns"),
    /** All threads, running or not (async-profiler only). Width: samples. */
    WALL("samples");

    private final String unit;

    ProfileKind(String unit) {
        this.unit = unit;
    }

    /** The unit of a frame's weight when JFR records this kind: "samples", "bytes" or "ns". */
    public String unit() {
        return unit;
    }

    /** The kind named {@code name}, ignoring case ("cpu", "Alloc"). */
    public static ProfileKind parse(String name) {
        for (ProfileKind kind : values()) {
            if (kind.name().equalsIgnoreCase(name.strip())) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown profile kind: \"" + name + "\"; use one of cpu, alloc, lock, wall");
    }
}
