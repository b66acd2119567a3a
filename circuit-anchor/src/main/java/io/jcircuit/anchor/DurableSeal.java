package io.jcircuit.anchor;

import java.util.Arrays;

/**
 * Signs the objects a runtime puts in the durable store and checks the ones it reads, so that a value
 * written into ZooKeeper by anyone else is refused before it is decoded (DESIGN §4: nothing is
 * deserialized before its sender is authenticated). A runtime with the cluster key has one.
 *
 * <p>A seal binds a value to its path and to its kind ({@link Namespace#KIND_SIGNED_OBJECT} or
 * {@link Namespace#KIND_SIGNED_BYTES}, the byte stored before the sealed value), so that nobody who can
 * write to ZooKeeper can move a signed value to another path or relabel signed bytes as an object.
 * Sealed values come in two formats, told apart by their first byte:
 * <ul>
 *   <li>{@link #KIND_BOUND} ({@code 0xff}), then one byte of signature length, the signature, the payload:
 *       the signature covers the path and the kind. Every seal is made so.</li>
 *   <li>one byte of signature length (never {@code 0xff}: the cluster key is an EC key, whose signatures
 *       are at most 141 bytes), the signature, the payload: the signature covers the path but not the kind.
 *       Made by JCircuit builds before the kind was bound; still opened, as they were written by key
 *       holders (the README's Security section says what that leaves open and how to re-seal them).</li>
 * </ul>
 */
public interface DurableSeal {

    /** The first byte of a seal whose signature covers the value's kind as well as its path. */
    byte KIND_BOUND = (byte) 0xff;

    /** {@code payload} with a signature that binds it to {@code path} and to {@code kind}. */
    byte[] seal(String path, byte kind, byte[] payload);

    /**
     * The payload of {@code sealed}, stored at {@code path} as {@code kind}.
     *
     * @throws SecurityException when its signature is not this cluster's, or was made for another path or
     *                           (sealed with the kind bound) another kind
     */
    byte[] open(String path, byte kind, byte[] sealed);

    /** The payload of a sealed value of either format, unchecked: for a runtime without the key, which checks nothing. */
    static byte[] payloadOf(byte[] sealed) {
        int at = sealed.length > 0 && sealed[0] == KIND_BOUND ? 1 : 0;
        int sigLength = sealed.length <= at ? 0 : sealed[at] & 0xff;
        if (sealed.length < at + 1 + sigLength) {
            throw new IllegalArgumentException("a sealed durable value of " + sealed.length + " bytes is truncated");
        }
        return Arrays.copyOfRange(sealed, at + 1 + sigLength, sealed.length);
    }
}
