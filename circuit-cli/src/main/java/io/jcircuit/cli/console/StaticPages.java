package io.jcircuit.cli.console;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The page's files, read from this package's resources. Only the names listed here are served, so no
 * request path ever reaches the class path.
 */
final class StaticPages {

    private static final Map<String, Page> PAGES = Map.of(
        "/", new Page("index.html", "text/html; charset=utf-8"),
        "/index.html", new Page("index.html", "text/html; charset=utf-8"),
        "/console.css", new Page("console.css", "text/css; charset=utf-8"),
        "/console.js", new Page("console.js", "text/javascript; charset=utf-8"));

    /** The page's own files only: no inline script, no other origin; flame graphs open in a frame from here. */
    private static final String POLICY = "default-src 'self'; frame-src 'self'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

    private record Page(String resource, String contentType) {
    }

    private StaticPages() {
    }

    static void serve(HttpExchange x, String path) throws IOException {
        Page p = PAGES.get(path);
        if (p == null) {
            throw new HttpFailure(404, "no such path: " + path + "; the console serves /, /api/circuit and "
                + "/api/worker/ID/{info,stack,flame,last-flame}");
        }
        byte[] body;
        try (InputStream in = StaticPages.class.getResourceAsStream(p.resource())) {
            if (in == null) {
                throw new HttpFailure(500, "the console's " + p.resource() + " is missing from the jar");
            }
            body = in.readAllBytes();
        }
        x.getResponseHeaders().set("Content-Security-Policy", POLICY);
        Replies.send(x, 200, p.contentType(), body);
    }
}
