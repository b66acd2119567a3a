package io.jcircuit.anchor;

import io.jcircuit.WorkerId;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validation of user paths, for anchors and the durable store. A valid path is absolute, has no
 * empty components and no trailing slash (except {@code /} itself), and each component is 1 to
 * {@value #MAX_COMPONENT} characters from {@code [A-Za-z0-9._\-:@+=,]}, never {@code .} or {@code ..};
 * at most {@value #MAX_LENGTH} characters in all. (Each component is a ZooKeeper node: a path of
 * thousands of them wrote a gigabyte of transaction log, and the embedded server then could not start.)
 */
public final class Paths {

    static final int MAX_COMPONENT = 255;
    static final int MAX_LENGTH = 1024;
    /** Top directories of the anchor tree that runtimes and hosts fill by themselves. */
    static final Set<String> RESERVED = Set.of("worker", "host");

    private Paths() {
    }

    /** Returns {@code path}'s components; {@code /} has none. */
    static List<String> components(String kind, String path) {
        if (path == null) {
            throw new IllegalArgumentException("bad " + kind + ": it is null");
        }
        if (path.isEmpty()) {
            throw bad(kind, path, "it is empty");
        }
        if (path.charAt(0) != '/') {
            throw bad(kind, path, "it must start with '/'");
        }
        List<String> parts = new ArrayList<>();
        if (path.length() == 1) {
            return parts;
        }
        if (path.contains("//")) {
            throw bad(kind, path, "it has an empty component"); // '//' too, which ends with '/' as well
        }
        if (path.endsWith("/")) {
            throw bad(kind, path, "it must not end with '/'");
        }
        if (path.length() > MAX_LENGTH) {
            throw bad(kind, path, "it is " + path.length() + " characters long, more than " + MAX_LENGTH);
        }
        for (String c : path.substring(1).split("/", -1)) {
            if (c.isEmpty()) {
                throw bad(kind, path, "it has an empty component");
            }
            if (c.equals(".") || c.equals("..")) {
                throw bad(kind, path, "'" + c + "' is not allowed as a component");
            }
            if (c.equals("...")) {
                throw bad(kind, path, "'...' is not allowed as a component (the commands read a path ending in /... as"
                    + " that directory and everything below it)");
            }
            if (c.length() > MAX_COMPONENT) {
                throw bad(kind, path, "a component is longer than " + MAX_COMPONENT + " characters");
            }
            for (int i = 0; i < c.length(); i++) {
                char ch = c.charAt(i);
                if (!allowed(ch)) {
                    throw bad(kind, path, "character '" + printable(ch) + "' is not allowed (use ASCII letters, digits and . _ - : @ + = ,)");
                }
            }
            parts.add(c);
        }
        return parts;
    }

    /**
     * Checks an anchor directory that a runtime files itself under, lists or watches: besides the
     * syntax, no component may look like a worker id. With {@code forFiling}, the reserved top
     * directories are refused too.
     */
    public static String anchorDir(String path, boolean forFiling) {
        List<String> parts = components("anchor path", path);
        for (String c : parts) {
            if (WorkerId.looksLikeWorkerId(c)) {
                throw bad("anchor path", path, "component '" + c
                    + "' looks like a worker id; worker ids name the entries, directories must not look like them");
            }
        }
        if (forFiling) {
            if (parts.isEmpty()) {
                throw bad("anchor path", path, "a runtime cannot be filed directly under '/'");
            }
            if (RESERVED.contains(parts.getFirst())) {
                throw bad("anchor path", path, "'/" + parts.getFirst() + "' is reserved: runtimes and hosts are filed there by themselves");
            }
        }
        return path;
    }

    /** Checks a path of the namespace that may end in an entry name, as {@code ls} takes. */
    public static String anchorPath(String path) {
        components("anchor path", path);
        return path;
    }

    /** Checks a durable path; worker-id-like components are fine there. */
    public static String durablePath(String path, boolean value) {
        List<String> parts = components("durable path", path);
        if (value && parts.isEmpty()) {
            throw bad("durable path", path, "a value cannot be stored at '/'");
        }
        return path;
    }

    /** {@code dir + "/" + name}, without doubling the root's slash. */
    static String child(String dir, String name) {
        return dir.equals("/") ? "/" + name : dir + "/" + name;
    }

    private static boolean allowed(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
            || ch == '.' || ch == '_' || ch == '-' || ch == ':' || ch == '@' || ch == '+' || ch == '=' || ch == ',';
    }

    private static String printable(char ch) {
        return ch < 0x20 || ch > 0x7e ? String.format("\\u%04x", (int) ch) : String.valueOf(ch);
    }

    private static IllegalArgumentException bad(String kind, String path, String why) {
        String shown = path == null || path.length() <= 200 ? path : path.substring(0, 100) + "...";
        return new IllegalArgumentException("bad " + kind + " '" + shown + "': " + why);
    }
}
