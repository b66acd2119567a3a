package io.jcircuit.anchor;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Raw bytes in the durable store that only holders of the cluster key may write, for values that
 * decide what a runtime does although they are not objects (a deployment record names the jar a worker
 * runs). With a {@link DurableSeal} they are stored sealed with it, bound to their path, as
 * {@link Namespace#KIND_SIGNED_BYTES}, and read back only when the seal is this cluster's for that
 * path and for bytes: unsigned bytes (anyone who can write to ZooKeeper can put them there), bytes signed
 * with another key or for another path, and a signed object relabelled as bytes are refused. Without one, they are stored unsigned and read
 * unchecked, signed or not, as a runtime without the key checks nothing.
 *
 * <p>Thread-safe: it holds no state of its own.
 */
public final class SignedBytes {

    private final Namespace ns;
    private final DurableSeal seal;

    /** {@code seal} null: stores unsigned, reads unchecked. */
    public SignedBytes(Namespace ns, DurableSeal seal) {
        this.ns = Objects.requireNonNull(ns, "ns");
        this.seal = seal;
    }

    /** True when values are signed and checked (there is a seal). */
    public boolean checked() {
        return seal != null;
    }

    /**
     * Stores {@code bytes} at {@code path}, signed when there is a seal, only when nothing is there yet,
     * atomically (of two writers racing for one path, one wins). Returns false when a value or a
     * directory was there.
     */
    public boolean create(String path, byte[] bytes) {
        Paths.durablePath(path, true);
        Objects.requireNonNull(bytes, "bytes");
        return seal == null ? ns.create(path, Namespace.KIND_BYTES, bytes)
            : ns.create(path, Namespace.KIND_SIGNED_BYTES, seal.seal(path, Namespace.KIND_SIGNED_BYTES, bytes));
    }

    /** Stores {@code bytes} at {@code path}, signed when there is a seal, replacing what was there. */
    public void put(String path, byte[] bytes) {
        Paths.durablePath(path, true);
        Objects.requireNonNull(bytes, "bytes");
        if (seal == null) {
            ns.put(path, Namespace.KIND_BYTES, bytes);
        } else {
            ns.put(path, Namespace.KIND_SIGNED_BYTES, seal.seal(path, Namespace.KIND_SIGNED_BYTES, bytes));
        }
    }

    /**
     * The bytes at {@code path}; empty when nothing is there.
     *
     * @throws SecurityException        with a seal, when they are not signed with it for {@code path} as bytes
     *                                  (unsigned, signed with another key or for another path, or signed
     *                                  as an object)
     * @throws IllegalArgumentException when the value there was put as an object
     */
    public Optional<byte[]> get(String path) {
        Paths.durablePath(path, true);
        Optional<byte[]> d = ns.get(path);
        if (d.isEmpty()) {
            return Optional.empty();
        }
        byte[] data = d.get();
        byte[] payload = Arrays.copyOfRange(data, 1, data.length);
        if (data[0] == Namespace.KIND_SIGNED_BYTES) {
            return Optional.of(open(seal, path, payload));
        }
        if (data[0] != Namespace.KIND_BYTES) {
            throw new IllegalArgumentException("durable value at '" + path + "' was stored as an object, not as bytes");
        }
        if (seal != null) {
            throw new SecurityException("durable value at '" + path + "' is not signed (anyone who can write to ZooKeeper"
                + " could have put it there), so this runtime, which has the cluster key, does not trust it");
        }
        return Optional.of(payload);
    }

    /**
     * The payload of the signed bytes {@code sealed} stored at {@code path}: checked with {@code seal},
     * or unchecked when it is null.
     *
     * @throws SecurityException when {@code seal} is not null and the signature is not its, for {@code path}
     *                           and signed bytes
     */
    static byte[] open(DurableSeal seal, String path, byte[] sealed) {
        return seal != null ? seal.open(path, Namespace.KIND_SIGNED_BYTES, sealed) : DurableSeal.payloadOf(sealed);
    }
}
