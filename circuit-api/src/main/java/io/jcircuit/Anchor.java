package io.jcircuit;

/**
 * This runtime's entry under one anchor directory, from {@link Anchors#file}. Closing it removes
 * the entry at once; closed while ZooKeeper is away, it returns at once and the entry goes as soon as
 * the connection is back (or with the session, if that ends first). The entry is kept through
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
