package io.jcircuit.anchor;

import io.jcircuit.Durable;
import io.jcircuit.Listing;
import io.jcircuit.Stored;
import io.jcircuit.Subscription;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@link Durable} on a {@link Namespace}, serializing objects with the runtime's {@link ValueCodec}.
 * With a {@link DurableSeal}, objects are signed when put and read only when their signature is
 * the cluster's, for the path they are at and for an object (signed bytes relabelled as an object are
 * refused before they are decoded). Bytes are put as they are; those written through
 * {@link SignedBytes} are read here without their seal.
 */
public final class NamespaceDurable implements Durable {

    private final Namespace ns;
    private final ValueCodec codec;
    private final DurableSeal seal;

    public NamespaceDurable(Namespace ns, ValueCodec codec) {
        this(ns, codec, null);
    }

    /** {@code seal} null: objects are stored unsigned, and signed ones are read unchecked. */
    public NamespaceDurable(Namespace ns, ValueCodec codec, DurableSeal seal) {
        this.ns = Objects.requireNonNull(ns, "ns");
        this.codec = Objects.requireNonNull(codec, "codec");
        this.seal = seal;
    }

    @Override
    public void putBytes(String path, byte[] bytes) {
        Paths.durablePath(path, true);
        ns.put(path, Namespace.KIND_BYTES, Objects.requireNonNull(bytes, "bytes"));
    }

    @Override
    public void put(String path, Object value) {
        Paths.durablePath(path, true);
        // stored, it would be listed, yet read back as nothing
        Objects.requireNonNull(value, "a durable value must not be null; delete(path) removes one");
        byte[] encoded;
        try {
            encoded = codec.encode(value);
        } catch (io.jcircuit.UnwritableValueException e) {
            throw new io.jcircuit.UnwritableValueException("cannot store a durable value at '" + path + "': "
                + e.getMessage(), e.getCause() == null ? e : e.getCause());
        }
        if (seal == null) {
            ns.put(path, Namespace.KIND_OBJECT, encoded);
        } else {
            ns.put(path, Namespace.KIND_SIGNED_OBJECT, seal.seal(path, Namespace.KIND_SIGNED_OBJECT, encoded));
        }
    }

    /**
     * {@inheritDoc} Bytes stored signed ({@link SignedBytes}) come without their seal, checked with
     * this store's seal when it has one.
     *
     * @throws SecurityException when they were stored signed and their signature is not this seal's for {@code path}
     */
    @Override
    public Optional<byte[]> getBytes(String path) {
        Paths.durablePath(path, true);
        return ns.get(path).map(d -> d[0] == Namespace.KIND_SIGNED_BYTES
            ? SignedBytes.open(seal, path, Arrays.copyOfRange(d, 1, d.length)) : Arrays.copyOfRange(d, 1, d.length));
    }

    @Override
    public <T> Optional<T> get(String path, Class<T> type) {
        Paths.durablePath(path, true);
        Objects.requireNonNull(type, "type");
        Optional<byte[]> d = ns.get(path);
        if (d.isEmpty()) {
            return Optional.empty();
        }
        byte[] data = d.get();
        byte[] payload = Arrays.copyOfRange(data, 1, data.length);
        if (data[0] == Namespace.KIND_SIGNED_OBJECT) {
            payload = seal != null ? seal.open(path, Namespace.KIND_SIGNED_OBJECT, payload) : DurableSeal.payloadOf(payload);
        } else if (data[0] == Namespace.KIND_OBJECT) {
            if (seal != null) {
                throw new SecurityException("durable value at '" + path + "' is not signed with the cluster key, so this"
                    + " runtime, which has the key, does not decode it (anyone who can write to ZooKeeper could have"
                    + " put it there); a runtime with the key can put it again");
            }
        } else if (data[0] == Namespace.KIND_BYTES || data[0] == Namespace.KIND_SIGNED_BYTES) {
            throw new IllegalArgumentException("durable value at '" + path + "' was stored as bytes; read it with getBytes");
        } else {
            throw new IllegalStateException("durable value at '" + path + "' is of kind " + data[0] + ", which this runtime"
                + " does not know: a newer build wrote it, or something wrote it into ZooKeeper by hand");
        }
        Object v;
        try {
            v = codec.decode(payload);
        } catch (io.jcircuit.UnreadableValueException e) {
            throw new io.jcircuit.UnreadableValueException("durable value at '" + path + "' cannot be read here: "
                + e.getMessage(), e);
        }
        return Optional.ofNullable(type.cast(v));
    }

    @Override
    public boolean delete(String path) {
        Paths.durablePath(path, true);
        return ns.delete(path);
    }

    @Override
    public Listing<Stored> list(String dir) {
        return ns.listDurable(Paths.durablePath(dir, false), false);
    }

    @Override
    public Listing<Stored> listAll(String dir) {
        return ns.listDurable(Paths.durablePath(dir, false), true);
    }

    @Override
    public Listing<Stored> awaitChange(String dir, long sinceRevision, Duration timeout) throws InterruptedException {
        Paths.durablePath(dir, false);
        return ns.awaitChange(dir, sinceRevision, timeout, false);
    }

    @Override
    public Subscription watch(String dir, Consumer<Listing<Stored>> listener) {
        Paths.durablePath(dir, false);
        Objects.requireNonNull(listener, "listener");
        return NamespaceAnchors.ListingSubscription.start(ns, dir, false, "durable-watch" + dir, listener);
    }
}
