/**
 * The codec layer: {@link io.jcircuit.codec.Message}s, the closed set of what runtimes say to each
 * other, to and from the payload of a DATA frame (see {@link io.jcircuit.codec.MessageCodec} for the
 * payload layout, and {@code io.jcircuit.link.FrameCodec} for the frame around it). Apache Fory does
 * the serialization; references travel as {@link io.jcircuit.codec.RefDescriptor}s and exceptions as
 * {@link io.jcircuit.codec.RemoteFailure}s.
 *
 * <p>Fory types stay inside this package.
 */
package io.jcircuit.codec;
