/**
 * Mutual TLS for links (DESIGN §4): the cluster key, the certificate each runtime issues itself
 * from it, and the Netty {@link io.netty.handler.ssl.SslHandler} that authenticates a connection
 * before anything on it is decoded.
 *
 * <pre>
 *   circuit keygen ──writes──▶ cluster key file (CA certificate + CA private key, PEM, mode 0600)
 *                                      │ ClusterKey.load (refuses a file that group or others can use)
 *                                      ▼
 *   each runtime at start:   ClusterKey.issue(name) ──▶ Identity (fresh key pair, leaf certificate; memory only)
 *                                      │ ClusterTls.of
 *                                      ▼
 *   each connection:         ClusterTls.newHandler ──▶ SslHandler, first in the channel's pipeline
 * </pre>
 *
 * A peer is trusted when its certificate chains to the cluster's CA, and for no other reason: the
 * identity that counts is membership of the cluster, not a host name. This package sits below
 * {@code io.jcircuit.link} and knows nothing of frames or worker ids.
 */
package io.jcircuit.link.tls;
