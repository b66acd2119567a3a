package io.jcircuit.host;

import java.util.List;

/**
 * JVM options that depend on how many CPUs a JVM gets. Hosts give them to the workers they start,
 * which share the host's CPUs; the launcher and the bench pass the same. Options given after them (a
 * spawn's {@code SpawnOptions.withJvmArgs}, {@code CIRCUIT_JAVA_OPTS}) win.
 *
 * <p>With more than one CPU, virtual threads get one carrier thread fewer than there are CPUs
 * ({@code jdk.virtualThreadScheduler.parallelism}), which leaves a CPU to the runtime's event loop. On
 * two CPUs, with as many carriers as CPUs, a call woke a parked carrier on each side: a carrier ran dry
 * each time its callers waited, and the event loop's next answer or request woke it again. With one
 * carrier, which the callers keep busy, 8 callers made 115-140 k calls/s against 65-100 k, at 14-15
 * instead of 20-22 us of CPU per call, the round trip and {@code go} were no slower, and the wordcount
 * demo's time stayed within its noise. A runtime in such a JVM also keeps its one carrier awake while
 * its calls are in flight ({@code io.jcircuit.runtime.Waiters}), and then 8 callers made 190-200 k.
 * The cost: virtual threads that compute, rather than wait, have one CPU fewer.
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
 * one-CPU options are given only on the JDK feature release they were checked on
 * ({@link #CHECKED_FEATURE}); a JVM started from another gets none. The JVMs JCircuit starts run the
 * starting JVM's own JDK.
 */
public final class CpuOptions {

    /** The JDK feature release the options were checked on; {@code CpuOptionsTest} checks it again. */
    static final int CHECKED_FEATURE = 25;

    /** The JDK's setting for the number of carrier threads of virtual threads. */
    static final String CARRIERS_PROPERTY = "-Djdk.virtualThreadScheduler.parallelism";

    private static final List<String> ONE_CPU = List.of(
        "-XX:+UnlockDiagnosticVMOptions", "-XX:DisableIntrinsic=_onSpinWait");

    private CpuOptions() {
    }

    /**
     * The options for a JVM of this JVM's JDK that will run on {@code cpus} CPUs: the carrier count
     * for more than one; for one, the spin-wait options, on {@link #CHECKED_FEATURE} only.
     */
    public static List<String> forCpus(int cpus) {
        return forCpus(cpus, Runtime.version().feature());
    }

    static List<String> forCpus(int cpus, int jdkFeature) {
        if (cpus <= 1) {
            return jdkFeature == CHECKED_FEATURE ? ONE_CPU : List.of();
        }
        return List.of(CARRIERS_PROPERTY + "=" + (cpus - 1));
    }

    /** {@link #forCpus} for a JVM that shares this one's CPUs. */
    public static List<String> forThisMachine() {
        return forCpus(Runtime.getRuntime().availableProcessors());
    }
}
