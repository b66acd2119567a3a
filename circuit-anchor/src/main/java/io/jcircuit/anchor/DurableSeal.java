package io.jcircuit.anchor;

/**
 * Signs the objects a runtime puts in the durable store and checks the ones it reads, so that a value
 * written into ZooKeeper by anyone else is refused before it is decoded (DESIGN §4: nothing is
 * deserialized before its sender is authenticated). A runtime with the cluster key has one.
 */
public interface DurableSeal {

    /** {@code payload} with a signature that binds it to {@code path}. */
    byte[] seal(String path, byte[] payload);

    /**
     * The payload of {@code sealed} stored at {@code path}.
     *
     * @throws SecurityException when its signature is not this cluster's, or was made for another path
     */
    byte[] open(String path, byte[] sealed);

    /** The payload of a sealed value, unchecked: for a runtime without the key, which checks nothing. */
    static byte[] payloadOf(byte[] sealed) {
        int sigLength = sealed.length == 0 ? 0 : sealed[0] & 0xff;
        if (sealed.length < 1 + sigLength) {
            throw new IllegalArgumentException("a sealed durable value of " + sealed.length + " bytes is truncated");
        }
        return java.util.Arrays.copyOfRange(sealed, 1 + sigLength, sealed.length);
    }
}
