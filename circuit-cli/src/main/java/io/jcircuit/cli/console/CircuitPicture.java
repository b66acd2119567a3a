package io.jcircuit.cli.console;

import java.util.List;
import java.util.Map;

/**
 * One look at the whole circuit, as {@link CircuitSampler#sample()} takes it: the host daemons, every
 * live runtime under {@code /worker} with what its ops service said, the anchor directories, and the
 * call flows between runtimes. Immutable.
 *
 * @param atMillis   when the sample was taken (wall clock)
 * @param tookMillis how long taking it took
 * @param hosts      the host daemons, by name
 * @param workers    every runtime filed under {@code /worker}, by id
 * @param anchors    every anchor directory other than {@code /worker}, sorted, with the ids filed in it
 * @param flows      calls from one runtime to another, by caller then callee
 */
public record CircuitPicture(long atMillis, long tookMillis, List<Host> hosts, List<Worker> workers,
                             Map<String, List<String>> anchors, List<Flow> flows) {

    public CircuitPicture {
        hosts = List.copyOf(hosts);
        workers = List.copyOf(workers);
        anchors = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(anchors)); // sorted, as ls lists them
        flows = List.copyOf(flows);
    }

    /** The worker with this id, or null. */
    public Worker worker(String id) {
        return workers.stream().filter(w -> w.id().equals(id)).findFirst().orElse(null);
    }

    /**
     * A host daemon.
     *
     * @param worker  the id of the host daemon's own runtime
     * @param workers how many workers the host last reported, or null when it did not say
     * @param warm    the ids of the JVMs it keeps warm for spawns, as it last reported them
     */
    public record Host(String name, String address, String worker, Integer workers, List<String> warm) {

        public Host {
            warm = warm == null ? List.of() : List.copyOf(warm);
        }
    }

    /**
     * One live runtime. The fields after {@code reachable} come from its ops service and are null
     * (or -1 for numbers) when it did not answer in time; {@code error} then says why.
     *
     * @param role      {@code host} for a host daemon's own runtime, {@code worker} for one a host started,
     *                  {@code standby} for a JVM a host keeps warm for a spawn, {@code runtime} for any other
     *                  (a client, a {@code circuit run} program)
     * @param host      the host daemon it runs under ({@code /host/<name>}), or its machine's name when none started it
     * @param machine   the machine's name, as the runtime filed it
     * @param anchors   the directories it is filed under, other than {@code /worker}
     * @param cpuLoad   the process's share of the whole machine's CPU, 0 to 1; negative when unknown
     */
    public record Worker(String id, String address, String host, String machine, long pid, String role, List<String> anchors,
                         boolean reachable, String error, String version, long uptimeMillis, List<String> services,
                         long heapUsed, long heapMax, int threads, double cpuLoad) {

        public Worker {
            anchors = List.copyOf(anchors);
            services = services == null ? List.of() : List.copyOf(services);
        }
    }

    /**
     * The calls from {@code from} to {@code to}, summed over methods. Rates are over the time between
     * the caller's last two samples, 0 on the first one; {@code calls} and {@code bytes} (both
     * directions) count since the caller first called the callee.
     *
     * @param p99Micros the highest 99th percentile latency of any method, over all calls since then
     */
    public record Flow(String from, String to, double callsPerSec, double bytesPerSec, long p99Micros,
                       long calls, long bytes) {
    }
}
