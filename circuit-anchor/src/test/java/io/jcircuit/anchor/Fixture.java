package io.jcircuit.anchor;

import io.jcircuit.Address;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Entries and names for the namespace tests. */
final class Fixture {

    private static final AtomicInteger DIRS = new AtomicInteger();

    private Fixture() {
    }

    /** A directory no other test uses, so tests can share one ZooKeeper. */
    static String freshDir(String name) {
        return "/" + name + "-" + DIRS.incrementAndGet();
    }

    static Entry self(WorkerId id, int port) {
        return new Entry("/worker/" + id, id, new Address("127.0.0.1", port), "testhost", 4242,
            Instant.ofEpochMilli(1_700_000_000_000L), Map.of());
    }

    static Entry entry(String dir, WorkerId id) {
        return new Entry(Paths.child(dir, id.toString()), id, new Address("127.0.0.1", 7000), "testhost", 1,
            Instant.ofEpochMilli(1_700_000_000_000L), Map.of("role", "test"));
    }

    static byte[] data(String dir, WorkerId id) {
        return EntryCodec.encode(entry(dir, id));
    }
}
