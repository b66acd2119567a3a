package io.jcircuit.examples.swap;

import io.jcircuit.Swappable;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Version 2 of a tally shard, the same class as in {@code examples} built from the next version of
 * its source: it also counts the adds it served itself, and says {@code v2}. It takes over version 1's
 * counts in a hot swap.
 */
public final class TallyShardImpl implements TallyShard, Swappable {

    private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
    private final LongAdder servedHere = new LongAdder();

    @Override
    public Ack add(String key, long n) {
        servedHere.increment();
        return new Ack(counts.merge(key, n, Long::sum), "v2", servedHere.sum());
    }

    @Override
    public long count(String key) {
        return counts.getOrDefault(key, 0L);
    }

    @Override
    public String version() {
        return "v2";
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
