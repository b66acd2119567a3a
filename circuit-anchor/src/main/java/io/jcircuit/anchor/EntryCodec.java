package io.jcircuit.anchor;

import io.jcircuit.Address;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
        Properties p = new Properties();
        p.setProperty("id", e.worker().toString());
        p.setProperty("address", e.address().toString());
        p.setProperty("host", e.host());
        p.setProperty("pid", Long.toString(e.pid()));
        p.setProperty("started", Long.toString(e.started().toEpochMilli()));
        e.metadata().forEach((k, v) -> p.setProperty(META + k, v));
        StringWriter w = new StringWriter();
        try {
            p.store(w, null);
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
        // Properties.store writes a date comment first; drop it so equal entries have equal bytes.
        String text = w.toString().lines().filter(l -> !l.startsWith("#")).reduce("", (a, b) -> a + b + "\n");
        return text.getBytes(StandardCharsets.UTF_8);
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
