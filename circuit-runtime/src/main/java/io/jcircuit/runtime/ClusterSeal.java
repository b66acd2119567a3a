package io.jcircuit.runtime;

import io.jcircuit.anchor.DurableSeal;
import io.jcircuit.link.tls.ClusterKey;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Seals durable values with the cluster key: one byte of signature length, the signature (ECDSA over
 * the path, a zero byte and the payload), then the payload. Binding the path keeps a signed value
 * from being copied by someone with ZooKeeper access to a path where it would mean something else
 * (a hot swap's forwarding record, say). A runtime's durable objects and the deployment records
 * ({@link io.jcircuit.runtime.host.Deployments}) are sealed so.
 */
public final class ClusterSeal implements DurableSeal {

    private static final byte[] SEPARATOR = {0};
    private final ClusterKey key;

    public ClusterSeal(ClusterKey key) {
        this.key = key;
    }

    @Override
    public byte[] seal(String path, byte[] payload) {
        byte[] sig = key.sign(path.getBytes(StandardCharsets.UTF_8), SEPARATOR, payload);
        if (sig.length > 255) {
            throw new IllegalStateException("a signature of " + sig.length + " bytes does not fit the seal");
        }
        byte[] out = new byte[1 + sig.length + payload.length];
        out[0] = (byte) sig.length;
        System.arraycopy(sig, 0, out, 1, sig.length);
        System.arraycopy(payload, 0, out, 1 + sig.length, payload.length);
        return out;
    }

    @Override
    public byte[] open(String path, byte[] sealed) {
        int sigLength = sealed.length == 0 ? 0 : sealed[0] & 0xff;
        if (sealed.length < 1 + sigLength || sigLength == 0) {
            throw refused(path, "its seal is truncated");
        }
        byte[] sig = Arrays.copyOfRange(sealed, 1, 1 + sigLength);
        byte[] payload = Arrays.copyOfRange(sealed, 1 + sigLength, sealed.length);
        if (!key.verify(sig, path.getBytes(StandardCharsets.UTF_8), SEPARATOR, payload)) {
            throw refused(path, "its signature is not this circuit's cluster key's for this path");
        }
        return payload;
    }

    private static SecurityException refused(String path, String why) {
        return new SecurityException("durable value at '" + path + "' refused before decoding: " + why
            + " (anyone who can write to ZooKeeper could have put it there)");
    }
}
