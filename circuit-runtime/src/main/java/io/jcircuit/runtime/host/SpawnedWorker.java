package io.jcircuit.runtime.host;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;

/**
 * A worker a host started.
 *
 * @param id      its runtime's id
 * @param address where it listens
 * @param host    the host's name
 * @param dir     its directory on the host: stdout, stderr and spawn metadata
 * @param pid     its process id
 */
public record SpawnedWorker(WorkerId id, Address address, String host, String dir, long pid) {
}
