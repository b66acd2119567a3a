package io.jcircuit;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of the namespace: a runtime filed under a directory.
 *
 * @param path     the entry's full path, e.g. {@code /wordcount/map/R0123456789abcdef}
 * @param worker   the runtime the entry stands for
 * @param address  where that runtime listens
 * @param host     the machine or host daemon it runs on
 * @param pid      its process id
 * @param started  when it started
 * @param metadata what it filed with the entry
 */
public record Entry(String path, WorkerId worker, Address address, String host, long pid, Instant started,
                    Map<String, String> metadata) {

    public Entry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(worker, "worker");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(started, "started");
        metadata = Map.copyOf(metadata);
    }

    /** The last component of the path: the worker id, or a host's name under {@code /host}. */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The directory that holds the entry. */
    public String dir() {
        int slash = path.lastIndexOf('/');
        return slash == 0 ? "/" : path.substring(0, slash);
    }
}
