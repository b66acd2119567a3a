package io.jcircuit.anchor;

/**
 * How the durable store turns objects into bytes and back. The runtime supplies its own codec, so
 * that stored values keep references as references.
 */
public interface ValueCodec {

    byte[] encode(Object value);

    /**
     * @throws io.jcircuit.UnreadableValueException when the bytes are well formed but hold a value this
     *                                              runtime cannot make (a class it cannot load)
     */
    Object decode(byte[] bytes);
}
