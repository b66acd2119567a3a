package io.jcircuit.link;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;

/**
 * The TLS side of a link transport: hands each new connection its {@link SslHandler}, which goes
 * first in the pipeline, so that not one frame is decoded before the peer has proved it holds a
 * certificate of this cluster. Implemented from the cluster key by
 * {@link io.jcircuit.link.tls.ClusterTls}.
 */
public interface LinkTls {

    /** A fresh handler for one connection; {@code client} on the side that dialed. */
    SslHandler newHandler(Channel channel, boolean client);

    /**
     * The name in the certificate the peer presented (a runtime names itself by its worker id), once
     * the TLS handshake is done. The link handshake refuses a peer that claims another id.
     */
    String authenticatedName(SslHandler handler);

    /** Names the cluster for logs (its key's fingerprint); never secret. */
    String describe();
}
