package io.jcircuit;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a spawned worker's JVM.
 *
 * @param jvmArgs    extra JVM arguments, e.g. {@code -Dkey=value}
 * @param maxHeapMb  the worker's maximum heap in MiB, or 0 for the host's default (256)
 * @param env        extra environment variables
 * @param daemonize  when true the worker keeps running after its spawner is gone, until killed
 * @param deployment the deployment whose jar the worker runs, {@code NAME} (its latest version) or
 *                   {@code NAME:VERSION}, as {@code circuit deploy} recorded it; null to run the
 *                   spawner's own classpath
 * @param owner      the runtime whose end ends the worker, when that is not the spawner (see {@link #ownedBy});
 *                   null for the spawner
 */
public record SpawnOptions(List<String> jvmArgs, int maxHeapMb, Map<String, String> env, boolean daemonize,
                           String deployment, WorkerId owner) {

    public SpawnOptions {
        for (String a : Objects.requireNonNull(jvmArgs, "jvmArgs")) {
            if (a == null) {
                throw new IllegalArgumentException("jvmArgs holds a null: " + jvmArgs);
            }
        }
        jvmArgs = List.copyOf(jvmArgs);
        for (Map.Entry<String, String> e : Objects.requireNonNull(env, "env").entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("env holds a null " + (e.getKey() == null ? "name (of value " + e.getValue()
                    + ")" : "value for " + e.getKey()) + "; a variable to leave unset is left out");
            }
        }
        env = Map.copyOf(env);
        if (maxHeapMb < 0) {
            throw new IllegalArgumentException("maxHeapMb=" + maxHeapMb + " must be 0 (default) or positive");
        }
        if (deployment != null && !deployment.matches(DEPLOYMENT_PATTERN)) {
            throw new IllegalArgumentException("deployment='" + deployment + "' must be NAME or NAME:VERSION, NAME of "
                + "letters, digits, '.', '_' and '-', VERSION a positive number");
        }
        if (daemonize && owner != null) {
            throw new IllegalArgumentException("a daemonized worker outlives every runtime; it cannot also end with " + owner);
        }
    }

    /** What {@link #withDeployment} accepts. */
    public static final String DEPLOYMENT_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]*(:[1-9][0-9]*)?";

    /** Options without a deployment. */
    public SpawnOptions(List<String> jvmArgs, int maxHeapMb, Map<String, String> env, boolean daemonize) {
        this(jvmArgs, maxHeapMb, env, daemonize, null, null);
    }

    /** Options of a worker that ends with its spawner (unless daemonized). */
    public SpawnOptions(List<String> jvmArgs, int maxHeapMb, Map<String, String> env, boolean daemonize,
                        String deployment) {
        this(jvmArgs, maxHeapMb, env, daemonize, deployment, null);
    }

    public static SpawnOptions defaults() {
        return new SpawnOptions(List.of(), 0, Map.of(), false, null, null);
    }

    public SpawnOptions withJvmArgs(String... args) {
        return new SpawnOptions(java.util.Arrays.asList(args), maxHeapMb, env, daemonize, deployment, owner);
    }

    public SpawnOptions withMaxHeapMb(int mb) {
        return new SpawnOptions(jvmArgs, mb, env, daemonize, deployment, owner);
    }

    public SpawnOptions withEnv(Map<String, String> vars) {
        return new SpawnOptions(jvmArgs, maxHeapMb, Objects.requireNonNull(vars), daemonize, deployment, owner);
    }

    /** These options with the worker outliving its spawner, until killed; clears {@link #ownedBy}. */
    public SpawnOptions daemonized() {
        return new SpawnOptions(jvmArgs, maxHeapMb, env, true, deployment, null);
    }

    /**
     * These options with the worker ending when {@code owner} is gone rather than its spawner: for a runtime
     * that spawns on another's behalf, as {@code circuit swap} spawns a replacement that is to live as long
     * as the worker it replaces would have. Gone means what it means for a spawner: unfiled from
     * {@code /worker} and not linked to the worker, or its session with the worker ended by its doing. A
     * worker with an owner is not ended by being idle (its function done, no reference into it held): it
     * serves until its owner is gone or it is killed. An owner that is gone already ends the worker at once.
     * Clears {@link #daemonized}.
     */
    public SpawnOptions ownedBy(WorkerId owner) {
        return new SpawnOptions(jvmArgs, maxHeapMb, env, false, deployment, Objects.requireNonNull(owner, "owner"));
    }

    /**
     * These options with the worker running the deployment {@code nameAndVersion}: {@code NAME} for its
     * latest version, or {@code NAME:VERSION}. The spawn looks it up in the durable store, under
     * {@code /deployments/NAME/VERSION}, and fails with an {@link IllegalArgumentException} when there is
     * no such deployment. A spawner with the cluster key takes only a record signed with it (as
     * {@code circuit deploy} with the key writes them), and fails with a {@link SecurityException} on one
     * that is not, which anyone who can write to ZooKeeper could have put there ({@code NAME} fails so
     * when its highest version is such a record). The worker's classpath is then the deployment's jar
     * followed by the JCircuit runtime's jars, not the spawner's application.
     */
    public SpawnOptions withDeployment(String nameAndVersion) {
        return new SpawnOptions(jvmArgs, maxHeapMb, env, daemonize, Objects.requireNonNull(nameAndVersion, "nameAndVersion"),
            owner);
    }
}
