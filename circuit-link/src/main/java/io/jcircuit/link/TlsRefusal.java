package io.jcircuit.link;

import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;

/**
 * Says why a TLS handshake between two runtimes failed, in terms an operator can act on. The JDK's
 * messages tell little: a certificate from another cluster key and one from the same key that is out of
 * its validity (by this machine's clock or the peer's) both end as a {@code PKIX} failure on the side that
 * checks it and as a {@code certificate_unknown} alert on the other. They mean different things: the first
 * is a wrong key file, the second clocks more than an hour apart (a runtime's certificate is valid from
 * an hour before its start) or a runtime that has run past its certificate's year.
 */
final class TlsRefusal {

    private TlsRefusal() {
    }

    /**
     * Why the handshake failed, from the TLS exception this side saw.
     *
     * @param failure      the {@link javax.net.ssl.SSLException} the TLS handler raised
     * @param peerVerified whether this side's own TLS handshake had completed, so that the peer's
     *                     certificate had been checked here and found to be of this cluster's key
     */
    static String describe(Throwable failure, boolean peerVerified) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException e) {
                return "TLS handshake refused: the peer's certificate is of this cluster's key but has expired ("
                    + e.getMessage() + ") by this machine's clock; a runtime's certificate is valid for a year"
                    + " from its start, so restart the peer, or set this machine's clock right if it is ahead";
            }
            if (t instanceof CertificateNotYetValidException e) {
                return "TLS handshake refused: the peer's certificate is of this cluster's key but is not valid yet ("
                    + e.getMessage() + ") by this machine's clock, which is more than an hour behind the peer's;"
                    + " set the clocks right (NTP)";
            }
        }
        String message = String.valueOf(failure.getMessage());
        if (message.contains("certificate_expired")) {
            return "TLS handshake refused by the peer: it holds this cluster's key but found this runtime's certificate"
                + " expired or not valid yet by its clock: the two machines' clocks are more than an hour apart (set"
                + " them right, NTP), or this runtime has run for more than a year (restart it)";
        }
        if (peerVerified && (message.contains("certificate_unknown") || message.contains("bad_certificate"))) {
            return "TLS handshake refused by the peer: its certificate is of this cluster's key, but it refused this"
                + " runtime's, most likely as expired or not valid yet by its clock: the two machines' clocks are more"
                + " than an hour apart (set them right, NTP), or this runtime has run for more than a year (restart it)";
        }
        if (message.contains("Empty client certificate chain") || message.contains("null cert chain")) {
            // a runtime with the cluster key always shows its certificate: this peer has none, of any key
            return "TLS handshake refused: the peer showed no certificate, which every runtime with a cluster key"
                + " does: it is no runtime of this cluster";
        }
        if (message.contains("PKIX") || message.contains("certificate") || message.contains("unknown_ca")) {
            return "TLS handshake refused: the two sides run with different cluster keys";
        }
        return message;
    }
}
