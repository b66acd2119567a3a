package io.jcircuit;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The durable store: small values kept under paths until deleted, surviving every runtime. Get it
 * from {@link Circuit#durable()}. Paths follow the rules of {@link Anchors}, except that any
 * component is allowed, worker-id-like ones too. Directories appear and vanish by themselves.
 *
 * <p>A value is raw bytes, or an object that is serialized as a call argument would be: copies of
 * plain values, and references that stay references. A reference stored by one runtime can be read
 * by another, which can then call it while its home runtime lives.
 *
 * <p>A stored value holds at most {@link #MAX_VALUE_BYTES} in its stored form; a larger one is
 * refused with an {@link IllegalArgumentException}. A value cannot be put where a directory is
 * ({@link IllegalArgumentException}): a path with values below it and none at it, as one whose value
 * was deleted while values below it stayed. A value can be replaced while values below it exist.
 */
public interface Durable {

    /** The largest stored form of one value. ZooKeeper caps a node at 1 MiB. */
    int MAX_VALUE_BYTES = 512 * 1024;

    /** Stores {@code bytes} at {@code path}, replacing what was there. */
    void putBytes(String path, byte[] bytes);

    /**
     * Stores {@code value} at {@code path}, replacing what was there.
     *
     * @throws UnwritableValueException when the value cannot be serialized (as a call's argument that
     *                                  cannot be sent), or would not read back (nested deeper than a
     *                                  runtime reads); nothing is stored
     */
    void put(String path, Object value);

    /**
     * The bytes at {@code path}; empty when nothing is there. Of a value stored with {@link #put}, its stored
     * form: the codec's bytes, behind their seal when the circuit has a key ({@link #get} reads it).
     */
    Optional<byte[]> getBytes(String path);

    /**
     * The object at {@code path}; empty when nothing is there.
     *
     * @throws ClassCastException       when it is not a {@code type}
     * @throws IllegalArgumentException when the value there was put as bytes
     * @throws UnreadableValueException when it holds a value of a class this runtime cannot load (as a
     *                                  call's argument or answer would); it stays there for others
     */
    <T> Optional<T> get(String path, Class<T> type);

    /** Removes the value at {@code path}; returns false when there was none. */
    boolean delete(String path);

    /** The values directly in {@code dir} and its non-empty subdirectories. */
    Listing<Stored> list(String dir);

    /** Every value below {@code dir} at any depth, and every non-empty directory below it. */
    Listing<Stored> listAll(String dir);

    /** As {@link Anchors#awaitChange}, for the values directly in {@code dir}. */
    Listing<Stored> awaitChange(String dir, long sinceRevision, Duration timeout) throws InterruptedException;

    /** As {@link Anchors#watch}, for the values directly in {@code dir}. */
    Subscription watch(String dir, Consumer<Listing<Stored>> listener);
}
