package io.jcircuit.cli.console;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The console's small HTTP helpers: answering, reading the query, and the {@code Host} check. */
final class Replies {

    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]", "::1");

    private Replies() {
    }

    /** Answers {@code status} with {@code body}; a HEAD request gets the headers only. */
    static void send(HttpExchange x, int status, String contentType, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", contentType);
        x.getResponseHeaders().set("Cache-Control", "no-store");
        x.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        if (x.getRequestMethod().equals("HEAD")) {
            x.sendResponseHeaders(status, -1);
            return;
        }
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** The query parameters; a repeated name keeps its first value. */
    static Map<String, String> query(URI uri) {
        Map<String, String> q = new HashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            q.putIfAbsent(name, value);
        }
        return q;
    }

    /**
     * Refuses (403) an API request that a page of another origin made the browser send: an image or a
     * frame of another site, or of another port on this machine, pointed at a flame graph would start a
     * profile. Browsers say where a request comes from in {@code Sec-Fetch-Site}, and older ones in
     * {@code Origin} for scripts' requests; {@code curl} and the like send neither and are let through.
     */
    static void checkSameOrigin(HttpExchange x) {
        String site = x.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            throw new HttpFailure(403, "a request from a page of another site (Sec-Fetch-Site: " + site
                + ") is refused: open the console itself");
        }
        String origin = x.getRequestHeaders().getFirst("Origin");
        String host = x.getRequestHeaders().getFirst("Host");
        if (origin != null && host != null && !origin.equalsIgnoreCase("http://" + host)) {
            throw new HttpFailure(403, "a request from " + origin + " is refused: open the console itself");
        }
    }

    /**
     * Refuses (403) a request whose {@code Host} header names neither loopback nor the bound address. A
     * web page that rebinds its own name to this machine sends its own name, so it cannot read the
     * console. Bound to every interface, the console answers loopback, any IP address (a page cannot be
     * of an address's origin and of its own) and {@code machineNames}, this machine's own names.
     */
    static void checkHost(HttpExchange x, InetSocketAddress bound, Set<String> machineNames) {
        String host = x.getRequestHeaders().getFirst("Host");
        if (host == null) {
            return; // HTTP/1.0 without Host: no browser sends that
        }
        String name = host.toLowerCase(Locale.ROOT);
        int colon = name.lastIndexOf(':');
        if (colon > name.lastIndexOf(']')) {
            name = name.substring(0, colon);
        }
        if (LOOPBACK_NAMES.contains(name)) {
            return;
        }
        String boundName = bound.getAddress().getHostAddress();
        boolean answered = bound.getAddress().isAnyLocalAddress()
            ? isAddressLiteral(name) || machineNames.contains(name)
            : name.equals(boundName) || name.equals("[" + boundName + "]") || name.equals(bound.getHostString().toLowerCase(Locale.ROOT));
        if (!answered) {
            throw new HttpFailure(403, "Host '" + host + "' is not this console's address; open it by its address, "
                + "http://" + (bound.getAddress().isAnyLocalAddress() ? "ADDRESS" : boundName) + ":" + bound.getPort() + "/");
        }
    }

    /** Whether {@code name} is an IPv4 address or a bracketed IPv6 one, not a name to look up. */
    private static boolean isAddressLiteral(String name) {
        if (name.startsWith("[") && name.endsWith("]")) {
            return name.length() > 2 && name.substring(1, name.length() - 1).chars()
                .allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0);
        }
        String[] parts = name.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    /**
     * This machine's own names (its host name, and its canonical name when that differs), lower case,
     * for a console bound to every interface; empty when they cannot be found.
     */
    static Set<String> machineNames() {
        try {
            java.net.InetAddress self = java.net.InetAddress.getLocalHost();
            Set<String> names = new java.util.HashSet<>();
            names.add(self.getHostName().toLowerCase(Locale.ROOT));
            names.add(self.getCanonicalHostName().toLowerCase(Locale.ROOT));
            return Set.copyOf(names);
        } catch (IOException e) {
            return Set.of();
        }
    }
}
