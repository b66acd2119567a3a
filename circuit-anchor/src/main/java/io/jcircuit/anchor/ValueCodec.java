package io.jcircuit.anchor;

/**
 * How the durable store turns objects into bytes and back. The runtime supplies its own codec, so
 * that stored values keep references as references.
 */
public interface ValueCodec {

    /**
     * @throws io.jcircuit.UnwritableValueException when the value cannot be serialized
     */
    byte[] encode(Object value);

    /**
     * @throws io.jcircuit.UnreadableValueException when the bytes are well formed but hold a value this
     *                                              runtime cannot make (a class it cannot load)
     */
    Object decode(byte[] bytes);
}
