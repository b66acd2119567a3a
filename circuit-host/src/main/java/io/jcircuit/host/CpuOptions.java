package io.jcircuit.host;

import java.util.List;

/**
 * JVM options that depend on how many CPUs a JVM gets. Hosts give them to the workers they start,
 * which share the host's CPUs; the launcher and the bench pass the same.
 *
 * <p>On one CPU, a JVM's spin-waits do not use the CPU's pause instruction. The virtual-thread
 * scheduler spins about 256 times on {@link Thread#onSpinWait()} each time a carrier thread runs out
 * of work, before it parks. With the pause instruction that is about 6 us on the VMs we measure on
 * (256 pauses took 6.2 us), and it was a tenth of each process's CPU in a one-CPU round trip. On one
 * CPU nothing another thread does can happen during the spin, so its length buys nothing. Without the
 * intrinsic, {@code onSpinWait} is an empty call and the spin is only its checks of the queues. With
 * more CPUs the spin can catch work from the others, and the options are not given. See
 * docs/performance.md for the figures.
 *
 * <p>A JVM refuses to start when {@code DisableIntrinsic} names an intrinsic it does not know, so the
 * options are given only on the JDK feature release they were checked on ({@link #CHECKED_FEATURE});
 * a JVM started from another gets none. The JVMs JCircuit starts run the starting JVM's own JDK.
 */
public final class CpuOptions {

    /** The JDK feature release the options were checked on; {@code CpuOptionsTest} checks it again. */
    static final int CHECKED_FEATURE = 25;

    private static final List<String> ONE_CPU = List.of(
        "-XX:+UnlockDiagnosticVMOptions", "-XX:DisableIntrinsic=_onSpinWait");

    private CpuOptions() {
    }

    /**
     * The options for a JVM of this JVM's JDK that will run on {@code cpus} CPUs; empty for more than
     * one, and on a JDK other than {@link #CHECKED_FEATURE}.
     */
    public static List<String> forCpus(int cpus) {
        return forCpus(cpus, Runtime.version().feature());
    }

    static List<String> forCpus(int cpus, int jdkFeature) {
        return cpus <= 1 && jdkFeature == CHECKED_FEATURE ? ONE_CPU : List.of();
    }

    /** {@link #forCpus} for a JVM that shares this one's CPUs. */
    public static List<String> forThisMachine() {
        return forCpus(Runtime.getRuntime().availableProcessors());
    }
}
