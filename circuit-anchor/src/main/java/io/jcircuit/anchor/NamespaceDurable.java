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

/** {@link Durable} on a {@link Namespace}, serializing objects with the runtime's {@link ValueCodec}. */
public final class NamespaceDurable implements Durable {

    private final Namespace ns;
    private final ValueCodec codec;

    public NamespaceDurable(Namespace ns, ValueCodec codec) {
        this.ns = Objects.requireNonNull(ns, "ns");
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    @Override
    public void putBytes(String path, byte[] bytes) {
        Paths.durablePath(path, true);
        ns.put(path, Namespace.KIND_BYTES, Objects.requireNonNull(bytes, "bytes"));
    }

    @Override
    public void put(String path, Object value) {
        Paths.durablePath(path, true);
        ns.put(path, Namespace.KIND_OBJECT, codec.encode(value));
    }

    @Override
    public Optional<byte[]> getBytes(String path) {
        Paths.durablePath(path, true);
        return ns.get(path).map(d -> Arrays.copyOfRange(d, 1, d.length));
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
        if (data[0] != Namespace.KIND_OBJECT) {
            throw new IllegalArgumentException("durable value at '" + path + "' was stored as bytes; read it with getBytes");
        }
        Object v = codec.decode(Arrays.copyOfRange(data, 1, data.length));
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
        return NamespaceAnchors.awaitChange(ns, dir, sinceRevision, timeout, false);
    }

    @Override
    public Subscription watch(String dir, Consumer<Listing<Stored>> listener) {
        Paths.durablePath(dir, false);
        Objects.requireNonNull(listener, "listener");
        return NamespaceAnchors.ListingSubscription.start(ns, dir, false, "durable-watch" + dir, listener);
    }
}
