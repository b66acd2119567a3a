package io.jcircuit.runtime.host;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;

import java.util.List;
import java.util.Map;

/**
 * A request to start a worker.
 *
 * @param spawner   the runtime asking; a non-daemon worker exits when it is gone (or its owner, if any)
 * @param classpath the worker's classpath, in order
 * @param jars      where the host fetches jars it does not have
 * @param anchors   directories the worker files itself under
 * @param jvmArgs   extra JVM arguments
 * @param maxHeapMb the maximum heap, 0 for the host's default
 * @param env       extra environment variables
 * @param daemonize whether the worker outlives its spawner
 * @param metadata  what the worker adds to the metadata of every entry it files, such as its code
 *                  version ({@link Deployment#CODE_KEY}); may be empty
 * @param spawnerAt where the spawner listens, or null: the worker opens its link to the spawner
 *                  while it files itself, so that the spawner's first call finds the link up
 * @param owner     the runtime whose end ends a non-daemon worker when that is not the spawner, or null
 *                  ({@link io.jcircuit.SpawnOptions#ownedBy})
 */
public record SpawnSpec(WorkerId spawner, List<JarRef> classpath, JarSource jars, List<String> anchors,
                        List<String> jvmArgs, int maxHeapMb, Map<String, String> env, boolean daemonize,
                        Map<String, String> metadata, Address spawnerAt, WorkerId owner) {

    public SpawnSpec {
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /** A spawn whose worker adds no metadata of its own. */
    public SpawnSpec(WorkerId spawner, List<JarRef> classpath, JarSource jars, List<String> anchors,
                     List<String> jvmArgs, int maxHeapMb, Map<String, String> env, boolean daemonize) {
        this(spawner, classpath, jars, anchors, jvmArgs, maxHeapMb, env, daemonize, Map.of(), null, null);
    }
}
