package io.jcircuit;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a spawned worker's JVM.
 *
 * @param jvmArgs   extra JVM arguments, e.g. {@code -Dkey=value}
 * @param maxHeapMb the worker's maximum heap in MiB, or 0 for the host's default (256)
 * @param env       extra environment variables
 * @param daemonize when true the worker keeps running after its spawner is gone, until killed
 */
public record SpawnOptions(List<String> jvmArgs, int maxHeapMb, Map<String, String> env, boolean daemonize) {

    public SpawnOptions {
        jvmArgs = List.copyOf(jvmArgs);
        env = Map.copyOf(env);
        if (maxHeapMb < 0) {
            throw new IllegalArgumentException("maxHeapMb=" + maxHeapMb + " must be 0 (default) or positive");
        }
    }

    public static SpawnOptions defaults() {
        return new SpawnOptions(List.of(), 0, Map.of(), false);
    }

    public SpawnOptions withJvmArgs(String... args) {
        return new SpawnOptions(List.of(args), maxHeapMb, env, daemonize);
    }

    public SpawnOptions withMaxHeapMb(int mb) {
        return new SpawnOptions(jvmArgs, mb, env, daemonize);
    }

    public SpawnOptions withEnv(Map<String, String> vars) {
        return new SpawnOptions(jvmArgs, maxHeapMb, Objects.requireNonNull(vars), daemonize);
    }

    public SpawnOptions daemonized() {
        return new SpawnOptions(jvmArgs, maxHeapMb, env, true);
    }
}
