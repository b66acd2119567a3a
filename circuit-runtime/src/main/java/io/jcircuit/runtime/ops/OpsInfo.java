package io.jcircuit.runtime.ops;

import java.util.List;

/**
 * What {@link Ops#info} says about one worker.
 *
 * @param version       JCircuit's version, from the runtime jar's manifest
 * @param classpathHash a short hash of the class path (file names, sizes and times): equal for workers running
 *                      the same code
 * @param anchors       the directories this worker is filed under
 * @param profiler      {@code async-profiler} or {@code jfr}
 * @param serviceTypes  for each service but this one, its interface and the class serving it: what a hot
 *                      swap replaces
 */
public record OpsInfo(String worker, String address, String host, long pid, String version, String classpathHash,
                      long startedMillis, long uptimeMillis, List<String> anchors, List<String> services,
                      String jvm, int processors, long heapMaxBytes, String profiler, List<String> peers,
                      List<ServiceType> serviceTypes) {

    /**
     * A service by name, the interface it is served as, the class of the object serving it, and the
     * methods its callers can call ({@code name(binary,type,names)}; null from a runtime of a build
     * that did not say).
     */
    public record ServiceType(String name, String iface, String impl, List<String> methods) {
    }
}
