package io.jcircuit.link;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandler;

/**
 * The TLS side of a link transport: hands each new connection its {@link SslHandler}, which goes
 * first in the pipeline, so that not one frame is decoded before the peer has proved it holds a
 * certificate of this cluster. Implemented from the cluster key ({@code io.jcircuit.link.tls}).
 */
public interface LinkTls {

    /** A fresh handler for one connection; {@code client} on the side that dialed. */
    SslHandler newHandler(ByteBufAllocator alloc, boolean client);

    /** Names the cluster for logs (its key's fingerprint); never secret. */
    String describe();
}
