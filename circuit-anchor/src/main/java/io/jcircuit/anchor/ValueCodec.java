package io.jcircuit.anchor;

/**
 * How the durable store turns objects into bytes and back. The runtime supplies its own codec, so
 * that stored values keep references as references.
 */
public interface ValueCodec {

    byte[] encode(Object value);

    Object decode(byte[] bytes);
}
