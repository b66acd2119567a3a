package io.jcircuit.examples.wordcount;

import io.jcircuit.Chan;
import io.jcircuit.Circuit;
import io.jcircuit.Spawned;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A streaming multi-stage MapReduce over the Java sources of a zip (the JDK's {@code lib/src.zip}):
 * a source worker streams source files into a channel; mapper workers tokenize identifiers and
 * stream partial counts, partitioned by key hash, into the channels of reducer workers; an
 * aggregator worker merges the reducers' top k. Every stage runs in a worker spawned on the hosts.
 */
public final class WordCount {

    static final int COMBINE = 20_000; // distinct words a mapper collects for one reducer before it sends them

    /** A reducer: one partition of the counts, in a worker that lives while the driver holds this. */
    public interface Reducer {
        Chan<Map<String, Long>> input();
        /** The partition's k most frequent words, once its input is closed and merged. */
        List<Map.Entry<String, Long>> top(int k) throws InterruptedException;
    }

    /** What a run found. */
    public record Result(long files, long bytes, long tokens, List<Map.Entry<String, Long>> top) {
    }

    /** Runs the pipeline on {@code circuit}: {@code mappers} and {@code reducers} workers, the first {@code limit} files. */
    public static Result run(Circuit circuit, Path zip, int mappers, int reducers, int k, int limit, LongConsumer progress)
        throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Spawned<Reducer>>> rs = new ArrayList<>();
            for (int i = 0; i < reducers; i++) {
                rs.add(threads.submit(() -> circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/reduce"), WordCount::reducer)));
            }
            List<Reducer> reducerRefs = new ArrayList<>();
            List<Chan<Map<String, Long>>> ins = new ArrayList<>();
            for (Future<Spawned<Reducer>> r : rs) {
                reducerRefs.add(r.get().result());
                ins.add(r.get().result().input());
            }
            Chan<byte[]> files = circuit.makeChan(64);
            List<Future<Long>> ms = new ArrayList<>();
            for (int i = 0; i < mappers; i++) {
                ms.add(threads.submit(() -> circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/map"), () -> map(files, ins)).result()));
            }
            String zipPath = zip.toString();
            LongConsumer told = circuit.ref(LongConsumer.class, progress); // the source reports each file's size
            long[] sent = circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/source"), () -> forEachSource(Path.of(zipPath),
                limit, src -> { files.send(src); told.accept(src.length); }, files)).result();
            long tokens = 0;
            for (Future<Long> m : ms) {
                tokens += m.get();
            }
            ins.forEach(Chan::close);
            List<Map.Entry<String, Long>> top = circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/aggregate"), () -> {
                List<Map.Entry<String, Long>> all = new ArrayList<>();
                for (Reducer r : reducerRefs) {
                    all.addAll(r.top(k)); // partitions are disjoint: the top k is among theirs
                }
                return topOf(all, k);
            }).result();
            return new Result(sent[0], sent[1], tokens, top);
        }
    }

    /** Runs in a reducer worker: merges what arrives on its channel. */
    static Reducer reducer() {
        Circuit here = Circuit.current();
        Chan<Map<String, Long>> in = here.makeChan(64);
        Map<String, Long> counts = new HashMap<>();
        CountDownLatch merged = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            for (Map<String, Long> part : in) {
                part.forEach((w, n) -> counts.merge(w, n, Long::sum));
            }
            merged.countDown();
        });
        return here.ref(Reducer.class, new Reducer() {
            @Override
            public Chan<Map<String, Long>> input() {
                return in;
            }

            @Override
            public List<Map.Entry<String, Long>> top(int k) throws InterruptedException {
                merged.await();
                return topOf(new ArrayList<>(counts.entrySet()), k);
            }
        });
    }

    /** Runs in a mapper worker: tokenizes files until the channel is drained; returns its token count. */
    static long map(Chan<byte[]> files, List<Chan<Map<String, Long>>> outs) {
        long tokens = 0;
        List<Map<String, Long>> parts = new ArrayList<>();
        outs.forEach(o -> parts.add(new HashMap<>()));
        for (byte[] src : files) {
            long[] n = {0};
            tokenize(src, w -> {
                parts.get(Math.floorMod(w.hashCode(), parts.size())).merge(w, 1L, Long::sum);
                n[0]++;
            });
            tokens += n[0];
            for (int i = 0; i < outs.size(); i++) {
                if (parts.get(i).size() >= COMBINE) { // a combiner: many files' counts per message
                    outs.get(i).send(parts.get(i));
                    parts.set(i, new HashMap<>());
                }
            }
        }
        for (int i = 0; i < outs.size(); i++) {
            outs.get(i).send(parts.get(i));
            outs.get(i).flush();
        }
        return tokens;
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
                each.accept(new String(src, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                start = -1;
            }
        }
    }

    /** Hands over the first {@code limit} {@code .java} entries, then closes {@code done}; returns {files, bytes}. */
    public static long[] forEachSource(Path zip, int limit, Consumer<byte[]> each, Chan<?> done) throws IOException {
        long files = 0;
        long bytes = 0;
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements() && files < limit; ) {
                ZipEntry entry = e.nextElement();
                if (entry.isDirectory() || !entry.getName().endsWith(".java")) {
                    continue;
                }
                try (InputStream in = z.getInputStream(entry)) {
                    byte[] src = in.readAllBytes();
                    each.accept(src);
                    files++;
                    bytes += src.length;
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            if (done != null) {
                done.close();
            }
        }
        return new long[] {files, bytes};
    }

    /** The single-process baseline: the same counts, one thread, no circuit. */
    public static Result baseline(Path zip, int limit, int k) throws IOException {
        Map<String, Long> counts = new HashMap<>();
        long[] tokens = {0};
        long[] sent = forEachSource(zip, limit, src -> tokenize(src, w -> {
            counts.merge(w, 1L, Long::sum);
            tokens[0]++;
        }), null);
        return new Result(sent[0], sent[1], tokens[0], topOf(new ArrayList<>(counts.entrySet()), k));
    }

    static List<Map.Entry<String, Long>> topOf(List<Map.Entry<String, Long>> all, int k) {
        all.sort(Map.Entry.<String, Long>comparingByValue(Collections.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
        List<Map.Entry<String, Long>> top = new ArrayList<>();
        for (Map.Entry<String, Long> e : all.subList(0, Math.min(k, all.size()))) {
            top.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue())); // a plain value that travels
        }
        return top;
    }
}
