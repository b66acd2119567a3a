/**
 * The protocol between a spawner and a host daemon (DESIGN §3): the host's service interface and
 * the values it exchanges. The daemon itself lives in {@code circuit-host}; the spawning side lives
 * in the runtime, so that {@link io.jcircuit.Circuit#spawn} works from any runtime.
 *
 * <p>A spawn goes: the spawner hashes its classpath ({@link ClasspathJars}), finds a host in the
 * namespace, calls {@link HostService#spawn} with the jar hashes and a reference to a
 * {@link JarSource}; the host fetches the jars it lacks from that reference into its cache, starts
 * the worker JVM and answers with the worker's id and address; the spawner then runs the function
 * there with {@code go}.
 */
package io.jcircuit.runtime.host;
