/**
 * The link layer: one TCP connection per pair of runtimes, framed by {@link io.jcircuit.link.FrameCodec}
 * (whose Javadoc draws the frame), opened by a handshake that exchanges worker ids, and carried by
 * Netty (epoll where it loads, NIO otherwise).
 *
 * <pre>
 *   runtime   calls, exports, proxies               io.jcircuit.runtime
 *   codec     messages &lt;-&gt; DATA payload bytes (Fory) io.jcircuit.codec
 *   link      frames, handshake, seq/ack, back-pressure   io.jcircuit.link   (this package)
 *   netty     TCP
 * </pre>
 *
 * This layer knows worker ids and addresses from the API and nothing of messages above it.
 */
package io.jcircuit.link;
