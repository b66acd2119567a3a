package io.jcircuit.examples.wordcount;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** What {@link WordCount} counts and how, and the single-process baseline that counts the same way. */
public final class Words {

    private Words() {
    }

    /** The zip's {@code .java} entries, in the zip's order: the file numbers of the work channel. */
    static List<ZipEntry> sources(ZipFile z) {
        return z.stream().filter(e -> !e.isDirectory() && e.getName().endsWith(".java")).map(e -> (ZipEntry) e).toList();
    }

    /** How many {@code .java} sources {@code zip} holds. */
    public static int count(Path zip) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            return sources(z).size();
        }
    }

    static byte[] read(ZipFile z, ZipEntry e) throws IOException {
        try (InputStream in = z.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    /** Calls {@code each} with every Java identifier in {@code src} (ASCII letters, digits, _ and $). */
    public static void tokenize(byte[] src, Consumer<String> each) {
        int start = -1;
        for (int i = 0; i <= src.length; i++) {
            int c = i < src.length ? src[i] : ' ';
            boolean part = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || (c >= '0' && c <= '9');
            if (part && start < 0 && !(c >= '0' && c <= '9')) {
                start = i;
            } else if (!part && start >= 0) {
                each.accept(new String(src, start, i - start, StandardCharsets.ISO_8859_1));
                start = -1;
            }
        }
    }

    /** The single-process baseline: the same counts, one thread, no circuit. */
    public static WordCount.Result baseline(Path zip, int limit, int k) throws IOException {
        Map<String, Long> counts = new HashMap<>();
        long[] done = new long[3];
        try (ZipFile z = new ZipFile(zip.toFile())) {
            List<ZipEntry> sources = sources(z);
            for (ZipEntry e : sources.subList(0, Math.min(limit, sources.size()))) {
                byte[] src = read(z, e);
                tokenize(src, w -> {
                    counts.merge(w, 1L, Long::sum);
                    done[2]++;
                });
                done[0]++;
                done[1] += src.length;
            }
        }
        return new WordCount.Result(done[0], done[1], done[2], topOf(counts.entrySet(), k));
    }

    /** The {@code k} most frequent of {@code all}, ties by word: one pass that keeps k, not a sort of them all. */
    static List<Map.Entry<String, Long>> topOf(Collection<Map.Entry<String, Long>> all, int k) {
        Comparator<Map.Entry<String, Long>> order = Map.Entry.<String, Long>comparingByValue(Collections.reverseOrder())
            .thenComparing(Map.Entry.comparingByKey());
        PriorityQueue<Map.Entry<String, Long>> kept = new PriorityQueue<>(order.reversed()); // the head is the least kept
        for (Map.Entry<String, Long> e : all) {
            if (kept.size() < k) {
                kept.add(e);
            } else if (k > 0 && order.compare(e, kept.peek()) < 0) {
                kept.poll();
                kept.add(e);
            }
        }
        List<Map.Entry<String, Long>> top = new ArrayList<>();
        for (Map.Entry<String, Long> e : kept) {
            top.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue())); // a plain value that travels
        }
        top.sort(order);
        return top;
    }
}
