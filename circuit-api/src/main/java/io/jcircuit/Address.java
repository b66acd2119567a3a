package io.jcircuit;

import java.util.Objects;

/**
 * Where a runtime listens: a host name or literal IP and a TCP port. The text form is
 * {@code host:port}, with IPv6 literals in brackets ({@code [::1]:7000}).
 */
public record Address(String host, int port) {

    public Address {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("address host must not be blank");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("address port out of range: " + port);
        }
    }

    /**
     * Parses {@code host:port} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException naming the text when it does not parse
     */
    public static Address parse(String text) {
        Objects.requireNonNull(text, "text");
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("not an address: '" + text + "' (expected host:port, e.g. 127.0.0.1:7000)");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("not an address: '" + text + "' (write IPv6 hosts in brackets, e.g. [::1]:7000)");
        }
        try {
            return new Address(host, Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an address: '" + text + "' (the port is not a number)", e);
        }
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
