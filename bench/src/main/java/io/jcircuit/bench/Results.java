package io.jcircuit.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The figures of one run or of the whole bench: an immutable map from JSON key to value, in insertion
 * order, with the flat-JSON form that the children print and {@code --json} prints.
 *
 * <p>Round trips (microseconds), durations (milliseconds) and sizes (MiB) are written with one
 * decimal, rates as whole numbers per second. Only flat objects of numbers are read back; that is all
 * the bench ever writes.
 */
final class Results {

    private final Map<String, Double> values;

    private Results(Map<String, Double> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * The figures of one run of {@code group}, keyed by their unpinned names in {@link Metric} order.
     *
     * @throws IllegalArgumentException naming the first figure of {@code group} that is missing
     */
    static Results of(Metric.Group group, Map<Metric, Double> figures) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Metric metric : Metric.of(group)) {
            Double v = figures.get(metric);
            if (v == null) {
                throw new IllegalArgumentException("figure " + metric.key() + " is missing from " + figures.keySet());
            }
            m.put(metric.key(), v);
        }
        return new Results(m);
    }

    /**
     * Exactly the figures of {@code group} among these, in {@link Metric} order; other keys (a child's
     * notes) are left out.
     *
     * @throws NoSuchElementException naming the first figure of {@code group} that is absent
     */
    Results figures(Metric.Group group) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Metric metric : Metric.of(group)) {
            m.put(metric.key(), get(metric.key()));
        }
        return new Results(m);
    }

    /**
     * The whole bench: the unpinned call figures, then the pinned ones, which get
     * {@link Metric#PINNED_SUFFIX}, then the spawn figures.
     */
    static Results merge(Results unpinned, Results pinned, Results spawn) {
        Map<String, Double> m = new LinkedHashMap<>(unpinned.values);
        pinned.values.forEach((k, v) -> m.put(k + Metric.PINNED_SUFFIX, v));
        m.putAll(spawn.values);
        return new Results(m);
    }

    /**
     * The value under {@code key}.
     *
     * @throws NoSuchElementException naming the key when it is absent
     */
    double get(String key) {
        Double v = values.get(key);
        if (v == null) {
            throw new NoSuchElementException("no figure '" + key + "' among " + values.keySet());
        }
        return v;
    }

    /** The value of {@code metric} in the pinned or unpinned pass. */
    double get(Metric metric, boolean pinned) {
        return get(metric.key(pinned));
    }

    /** The value of {@code metric} unpinned, or of the one measurement of a spawn figure. */
    double get(Metric metric) {
        return get(metric.key());
    }

    Map<String, Double> asMap() {
        return values;
    }

    /** One line: {@code {"tcp_rtt_p50_us":12.3,"rmi_calls_per_s_8":96000,...}}. */
    String toJson() {
        StringBuilder sb = new StringBuilder("{");
        values.forEach((k, v) -> {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append('"').append(k).append("\":").append(format(k, v));
        });
        return sb.append('}').toString();
    }

    /** The number as JSON writes it: a rate rounded to a whole number, anything else to one decimal. */
    static String format(String key, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("figure " + key + " is not finite: " + v);
        }
        return key.contains("_per_s") ? Long.toString(Math.round(v)) : String.format(Locale.ROOT, "%.1f", v);
    }

    /**
     * Reads a flat JSON object of numbers, as {@link #toJson} writes it.
     *
     * @throws IllegalArgumentException quoting the text when it is not such an object
     */
    static Results parseJson(String json) {
        String t = json.strip();
        if (!t.startsWith("{") || !t.endsWith("}")) {
            throw new IllegalArgumentException("not a JSON object: '" + json + "'");
        }
        Map<String, Double> m = new LinkedHashMap<>();
        String body = t.substring(1, t.length() - 1).strip();
        if (!body.isEmpty()) {
            for (String member : body.split(",")) {
                parseMember(member, json, m);
            }
        }
        return new Results(m);
    }

    private static void parseMember(String member, String json, Map<String, Double> into) {
        int colon = member.indexOf(':');
        String key = colon < 0 ? "" : member.substring(0, colon).strip();
        if (key.length() < 3 || !key.startsWith("\"") || !key.endsWith("\"")) {
            throw new IllegalArgumentException("bad member '" + member.strip() + "' in '" + json + "'");
        }
        try {
            into.put(key.substring(1, key.length() - 1), Double.parseDouble(member.substring(colon + 1).strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member '" + member.strip() + "' in '" + json + "' is not a number", e);
        }
    }

    @Override
    public String toString() {
        return toJson();
    }
}
