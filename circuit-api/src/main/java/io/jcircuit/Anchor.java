package io.jcircuit;

/**
 * This runtime's entry under one anchor directory, from {@link Anchors#file}. Closing it removes
 * the entry at once; closed while ZooKeeper is away, it returns at once, and while ZooKeeper does not
 * answer (a server paused or cut off, which the client notices only after a while), within a second;
 * the entry then goes as soon as ZooKeeper answers again (or with the session, if that ends first).
 * Filings and closes of other entries do not wait for one that waits for ZooKeeper. The entry is kept through
 * ZooKeeper outages: when the session is lost and a new one begins, it is filed again.
 */
public interface Anchor extends AutoCloseable {

    /** The directory, e.g. {@code /wordcount/map}. */
    String dir();

    /** The entry's full path, e.g. {@code /wordcount/map/R0123456789abcdef}. */
    String path();

    /** Removes the entry. Idempotent. */
    @Override
    void close();
}
