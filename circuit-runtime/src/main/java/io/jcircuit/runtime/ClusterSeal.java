package io.jcircuit.runtime;

import io.jcircuit.anchor.DurableSeal;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.link.tls.ClusterKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Seals durable values with the cluster key, binding each to its path and its kind. A seal is the byte
 * {@link DurableSeal#KIND_BOUND} ({@code 0xff}), one byte of signature length, the signature, then the
 * payload. The signature is ECDSA over: a zero byte and the text {@code jcircuit durable seal 2}, a zero
 * byte, the kind byte, the path (UTF-8), a zero byte, the payload. Binding the path keeps a signed value
 * from being copied by someone with ZooKeeper access to a path where it would mean something else (a hot
 * swap's forwarding record, say); binding the kind keeps signed bytes (a deployment record) from being
 * relabelled as a signed object and decoded, or the other way round. A runtime's durable objects and the
 * deployment records ({@link io.jcircuit.runtime.host.Deployments}) are sealed so.
 *
 * <p>Values sealed by builds before the kind was bound (one byte of signature length, the signature over
 * the path, a zero byte and the payload, then the payload) are still opened, as key holders wrote them;
 * the first one a seal opens is logged as a warning that names it and says how to re-seal it. Once every
 * such value is re-sealed, {@link #OLD_SEALS_PROPERTY}{@code =refuse} has them refused like a value of
 * another key, which closes what they leave open (their kind byte can be changed). A new
 * signature never covers what an old one did: an old one's message starts with the path, which starts
 * with {@code /}, and a new one's with a zero byte, so neither can be passed off as the other.
 *
 * <p>Thread-safe.
 */
public final class ClusterSeal implements DurableSeal {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterSeal.class);
    private static final byte[] CONTEXT = "\0jcircuit durable seal 2\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEPARATOR = {0};
    /** At most the length of a DER-encoded ECDSA signature on P-521, the largest curve an EC key may use. */
    private static final int MAX_SIGNATURE = 255;

    private final ClusterKey key;
    private final AtomicBoolean warnedOld = new AtomicBoolean();
    private final boolean acceptOld;

    /**
     * The JVM property that says whether values sealed before the kind was bound are read: {@code accept}
     * (the default) or {@code refuse}. A host passes its own setting on to the workers it starts.
     */
    public static final String OLD_SEALS_PROPERTY = "circuit.durable.oldSeals";

    /** A seal that reads old seals as {@link #OLD_SEALS_PROPERTY} says. */
    public ClusterSeal(ClusterKey key) {
        this(key, oldSealsAccepted());
    }

    /** {@code acceptOld}: whether values sealed before the kind was bound are read (see the class comment). */
    public ClusterSeal(ClusterKey key, boolean acceptOld) {
        this.key = key;
        this.acceptOld = acceptOld;
    }

    /**
     * Whether this JVM reads values sealed before the kind was bound ({@link #OLD_SEALS_PROPERTY}).
     *
     * @throws IllegalArgumentException when the property is set to anything but {@code accept} or {@code refuse}
     */
    public static boolean oldSealsAccepted() {
        String v = System.getProperty(OLD_SEALS_PROPERTY);
        if (v == null || v.equals("accept")) {
            return true;
        }
        if (v.equals("refuse")) {
            return false;
        }
        throw new IllegalArgumentException(OLD_SEALS_PROPERTY + "=" + v + ": give accept (the default) or refuse");
    }

    @Override
    public byte[] seal(String path, byte kind, byte[] payload) {
        byte[] sig = key.sign(CONTEXT, new byte[] {kind}, utf8(path), SEPARATOR, payload);
        if (sig.length > MAX_SIGNATURE) {
            throw new IllegalStateException("a signature of " + sig.length + " bytes does not fit the seal");
        }
        byte[] out = new byte[2 + sig.length + payload.length];
        out[0] = KIND_BOUND;
        out[1] = (byte) sig.length;
        System.arraycopy(sig, 0, out, 2, sig.length);
        System.arraycopy(payload, 0, out, 2 + sig.length, payload.length);
        return out;
    }

    @Override
    public byte[] open(String path, byte kind, byte[] sealed) {
        return open(path, kind, sealed, false);
    }

    /**
     * {@code sealed}, stored at {@code path} as {@code kind}, sealed anew with its kind bound when it was
     * sealed before the kind was (and its signature is this cluster's for {@code path}); null when its kind
     * is bound already. Logs nothing: for re-sealing old values ({@code circuit dreseal}).
     *
     * @throws SecurityException when its signature is not this cluster's for {@code path} (and {@code kind})
     */
    public byte[] reseal(String path, byte kind, byte[] sealed) {
        byte[] payload = open(path, kind, sealed, true);
        return sealed[0] == KIND_BOUND ? null : seal(path, kind, payload);
    }

    /** {@code resealing}: an old seal is opened whatever the setting, and without a warning. */
    private byte[] open(String path, byte kind, byte[] sealed, boolean resealing) {
        boolean kindBound = sealed.length > 0 && sealed[0] == KIND_BOUND;
        int at = kindBound ? 1 : 0;
        int sigLength = sealed.length <= at ? 0 : sealed[at] & 0xff;
        if (sealed.length < at + 1 + sigLength || sigLength == 0) {
            throw refused(path, "its seal is truncated");
        }
        byte[] sig = Arrays.copyOfRange(sealed, at + 1, at + 1 + sigLength);
        byte[] payload = Arrays.copyOfRange(sealed, at + 1 + sigLength, sealed.length);
        if (!kindBound) {
            if (!key.verify(sig, utf8(path), SEPARATOR, payload)) {
                throw refused(path, "its signature is not this circuit's cluster key's for this path");
            }
            if (!resealing) {
                if (!acceptOld) {
                    throw refused(path, "it was sealed before seals covered a value's kind, and this runtime refuses such"
                        + " seals (" + OLD_SEALS_PROPERTY + "=refuse): re-seal it with 'circuit dreseal', or put it again");
                }
                warnOld(path);
            }
            return payload;
        }
        if (key.verify(sig, CONTEXT, new byte[] {kind}, utf8(path), SEPARATOR, payload)) {
            return payload;
        }
        for (byte other : new byte[] {Namespace.KIND_SIGNED_OBJECT, Namespace.KIND_SIGNED_BYTES}) {
            if (other != kind && key.verify(sig, CONTEXT, new byte[] {other}, utf8(path), SEPARATOR, payload)) {
                throw refused(path, "it is stored as " + kindName(kind) + " but was signed as " + kindName(other)
                    + ", so its kind was changed after it was signed");
            }
        }
        throw refused(path, "its signature is not this circuit's cluster key's for this path");
    }

    /** Says once, for the first value sealed in the old format that this seal opens, that it is and how to re-seal. */
    private void warnOld(String path) {
        if (warnedOld.compareAndSet(false, true)) {
            LOG.warn("durable value at '{}' is sealed as JCircuit builds sealed values before the seal covered a value's"
                + " kind, which anyone who can write to ZooKeeper can change (signed bytes relabelled as a signed"
                + " object get decoded); it is read, as a key holder wrote it, and sealed anew when it is next put."
                + " Re-seal every such value at once with 'circuit dreseal' and the cluster key (or put each again),"
                + " then start hosts with -D" + OLD_SEALS_PROPERTY + "=refuse so that none is read any more."
                + " Later such values are logged at DEBUG", path);
        } else {
            LOG.debug("durable value at '{}' is sealed without its kind; 'circuit dreseal' re-seals it", path);
        }
    }

    private static String kindName(byte kind) {
        return switch (kind) {
            case Namespace.KIND_SIGNED_OBJECT -> "a signed object";
            case Namespace.KIND_SIGNED_BYTES -> "signed bytes";
            default -> "kind " + kind;
        };
    }

    private static byte[] utf8(String path) {
        return path.getBytes(StandardCharsets.UTF_8);
    }

    private static SecurityException refused(String path, String why) {
        return new SecurityException("durable value at '" + path + "' refused before decoding: " + why
            + " (anyone who can write to ZooKeeper could have put it there)");
    }
}
