package io.jcircuit.anchor;

import io.jcircuit.Address;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * An entry's znode data: {@link Properties} text, so that {@code zkCli get} shows it plainly. Keys:
 * {@code id}, {@code address}, {@code host}, {@code pid}, {@code started} (epoch ms), and
 * {@code meta.<key>} for each metadata pair. Unknown keys are ignored, so later versions can add some.
 */
final class EntryCodec {

    private static final String META = "meta.";

    private EntryCodec() {
    }

    static byte[] encode(Entry e) {
        Map<String, String> p = new TreeMap<>();
        p.put("id", e.worker().toString());
        p.put("address", e.address().toString());
        p.put("host", e.host());
        p.put("pid", Long.toString(e.pid()));
        p.put("started", Long.toString(e.started().toEpochMilli()));
        e.metadata().forEach((k, v) -> p.put(META + k, v));
        // Written here rather than with Properties.store, whose date comment (dropped anyway, so that equal
        // entries have equal bytes) loaded the JDK's time-zone names in each JVM's first filing: about
        // 6 ms of a cold worker's start, on the spawn's path.
        StringBuilder text = new StringBuilder(128);
        p.forEach((k, v) -> {
            escape(k, true, text);
            text.append('=');
            escape(v, false, text);
            text.append('\n');
        });
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Appends {@code s} as {@link Properties#load(java.io.Reader)} reads it back: backslash escapes for the
     * characters that end or continue a key or line, and a Unicode escape for other control characters. Spaces
     * are escaped everywhere in a key, and only at the start of a value.
     */
    private static void escape(String s, boolean key, StringBuilder out) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case ' ' -> out.append(i == 0 || key ? "\\ " : " ");
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\f' -> out.append("\\f");
                case '=', ':', '#', '!' -> out.append('\\').append(c);
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }

    /**
     * Reads the entry at {@code path}.
     *
     * @throws IllegalArgumentException naming the path when the data is not an entry
     */
    static Entry decode(String path, byte[] data) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(data, StandardCharsets.UTF_8)));
            Map<String, String> meta = new TreeMap<>();
            for (String k : p.stringPropertyNames()) {
                if (k.startsWith(META)) {
                    meta.put(k.substring(META.length()), p.getProperty(k));
                }
            }
            return new Entry(path, WorkerId.parse(required(p, "id")), Address.parse(required(p, "address")),
                required(p, "host"), Long.parseLong(p.getProperty("pid", "0")),
                Instant.ofEpochMilli(Long.parseLong(p.getProperty("started", "0"))), meta);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("znode " + path + " does not hold a JCircuit entry: " + e.getMessage(), e);
        }
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IllegalArgumentException("missing '" + key + "'");
        }
        return v;
    }
}
