package io.jcircuit.examples.swap;

import io.jcircuit.Swappable;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Version 1 of a tally shard: counts per key, handed to the next version in a hot swap. The same
 * class, built from the next version of the source, is in {@code examples-v2}.
 */
public final class TallyShardImpl implements TallyShard, Swappable {

    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();

    @Override
    public Ack add(String key, long n) {
        return new Ack(counts.merge(key, n, Long::sum), "v1");
    }

    @Override
    public long count(String key) {
        return counts.getOrDefault(key, 0L);
    }

    @Override
    public String version() {
        return "v1";
    }

    @Override
    public Object snapshot() {
        return new HashMap<>(counts);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void restore(Object state) {
        counts.putAll((Map<String, Long>) state);
    }
}
