package io.jcircuit.examples.wordcount;

import io.jcircuit.Chan;
import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A streaming MapReduce over the Java sources of a zip (the JDK's {@code lib/src.zip}). Each worker
 * is a mapper and a reducer. As a mapper it takes batches of file numbers from a channel that the
 * driver fills, reads those files from the zip, tokenizes identifiers, and streams partial counts,
 * partitioned by key hash, into the reducers' channels (its own among them). Then a {@code go} on a
 * worker merges the reducers' top k. Every stage runs in workers spawned on the hosts; the zip must
 * be at the same path on their hosts, as the JDK's own is.
 */
public final class WordCount {

    static final int COMBINE = 20_000; // distinct words a mapper collects for one reducer before it sends them
    static final int FILES_PER_BATCH = 32; // file numbers per item of the work channel
    static final Duration JOB_DEADLINE = Duration.ofHours(1);

    /**
     * The workers live for one job of seconds: C1 only, since C2 would cost more CPU than it gives back
     * on few cores, and a young generation of 64 MB for their allocation rate (docs/performance.md).
     */
    static final SpawnOptions SHORT_LIVED = SpawnOptions.defaults().withJvmArgs("-XX:TieredStopAtLevel=1", "-Xms80m", "-Xmn64m");

    /** One worker: a mapper and a reducer, living while the driver holds this. */
    public interface Node {
        /** This node's partition of the counts: partial counts go in, until it is closed. */
        Chan<Map<String, Long>> input();

        /**
         * Reads and tokenizes the files of {@code zip} whose numbers arrive on {@code work}, until it is
         * drained, sending partial counts into {@code outs}; returns {files, bytes, tokens}.
         */
        long[] map(String zip, Chan<int[]> work, List<Chan<Map<String, Long>>> outs, Progress progress) throws IOException;

        /** The partition's k most frequent words, once its input is closed and merged. */
        List<Map.Entry<String, Long>> top(int k) throws InterruptedException;
    }

    /** Told how far the mappers have got: files and bytes read since the last report. */
    @FunctionalInterface
    public interface Progress {
        void sent(int files, long bytes);
    }

    /** A mapper reports progress at most this often, so that the report is no remote call per file. */
    static final long PROGRESS_EVERY_NANOS = 100_000_000L;

    /** What a run found. */
    public record Result(long files, long bytes, long tokens, List<Map.Entry<String, Long>> top) {
    }

    /** Runs the job on {@code workers} workers of {@code circuit}, over the first {@code limit} sources of {@code zip}. */
    public static Result run(Circuit circuit, Path zip, int workers, int k, int limit, Progress progress) throws Exception {
        // The spawns and calls last as long as the job, not the default deadline of a call.
        return Deadline.within(JOB_DEADLINE, () -> runJob(circuit, zip, workers, k, limit, progress));
    }

    private static Result runJob(Circuit circuit, Path zip, int workers, int k, int limit, Progress progress) throws Exception {
        int files;
        try (ZipFile z = new ZipFile(zip.toFile())) { // a bad path fails here, before any worker starts
            files = Math.min(limit, sources(z).size());
        }
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Spawned<Node>>> spawns = new ArrayList<>();
            for (int i = 0; i < workers; i++) { // all workers start at once
                spawns.add(threads.submit(() -> circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/node"), WordCount::node, SHORT_LIVED)));
            }
            Chan<int[]> work = circuit.makeChan(16); // the driver's: file numbers, not files, cross the links
            threads.submit(() -> {
                try {
                    for (int from = 0; from < files; from += FILES_PER_BATCH) {
                        work.send(new int[] {from, Math.min(files, from + FILES_PER_BATCH)});
                    }
                } finally {
                    work.close();
                }
                return null;
            });
            try {
                List<Node> nodes = new ArrayList<>();
                List<Chan<Map<String, Long>>> ins = new ArrayList<>();
                for (Future<Spawned<Node>> s : spawns) {
                    nodes.add(s.get().result());
                    ins.add(nodes.getLast().input());
                }
                Progress told = circuit.ref(Progress.class, progress);
                List<Future<long[]>> maps = new ArrayList<>();
                for (Node n : nodes) {
                    maps.add(threads.submit(() -> n.map(zip.toString(), work, ins, told)));
                }
                long[] sum = new long[3];
                for (Future<long[]> m : maps) {
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += m.get()[i];
                    }
                }
                ins.forEach(Chan::close);
                // The aggregation is small: it runs on a node's worker rather than in a JVM of its own.
                List<Map.Entry<String, Long>> top = spawns.getFirst().get().worker().go(() -> {
                    List<Map.Entry<String, Long>> all = new ArrayList<>();
                    for (Node n : nodes) {
                        all.addAll(n.top(k)); // partitions are disjoint: the top k is among theirs
                    }
                    return topOf(all, k);
                });
                return new Result(sum[0], sum[1], sum[2], top);
            } finally {
                for (int[] left : work) {
                    // after a failed spawn or map: take what no mapper took, so that the sender can finish
                }
            }
        }
    }

    /** Runs in a worker: the reducer's channel and merging thread; the mapper runs in {@link Node#map} calls. */
    static Node node() {
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
        return here.ref(Node.class, new Node() {
            @Override
            public Chan<Map<String, Long>> input() {
                return in;
            }

            @Override
            public long[] map(String zip, Chan<int[]> work, List<Chan<Map<String, Long>>> outs, Progress progress)
                throws IOException {
                return WordCount.map(Path.of(zip), work, outs, progress);
            }

            @Override
            public List<Map.Entry<String, Long>> top(int k) throws InterruptedException {
                merged.await();
                return topOf(counts.entrySet(), k);
            }
        });
    }

    /** What {@link Node#map} does, in its worker. */
    static long[] map(Path zip, Chan<int[]> work, List<Chan<Map<String, Long>>> outs, Progress progress) throws IOException {
        long[] done = new long[3]; // files, bytes, tokens
        Batched batched = new Batched(progress);
        List<Map<String, Long>> parts = new ArrayList<>();
        outs.forEach(o -> parts.add(new HashMap<>()));
        try (ZipFile z = new ZipFile(zip.toFile())) {
            List<ZipEntry> sources = sources(z);
            for (int[] batch : work) {
                for (int f = batch[0]; f < batch[1]; f++) {
                    byte[] src = read(z, sources.get(f));
                    tokenize(src, w -> {
                        parts.get(Math.floorMod(w.hashCode(), parts.size())).merge(w, 1L, Long::sum);
                        done[2]++;
                    });
                    done[0]++;
                    done[1] += src.length;
                    batched.sent(src.length);
                }
                for (int i = 0; i < outs.size(); i++) {
                    if (parts.get(i).size() >= COMBINE) { // a combiner: many files' counts per message
                        outs.get(i).send(parts.get(i));
                        parts.set(i, new HashMap<>());
                    }
                }
            }
        }
        for (int i = 0; i < outs.size(); i++) {
            outs.get(i).send(parts.get(i));
            outs.get(i).flush();
        }
        batched.flush();
        return done;
    }

    /** Collects progress and passes it on at most every {@link #PROGRESS_EVERY_NANOS}. */
    private static final class Batched {
        private final Progress to;
        private int files;
        private long bytes;
        private long lastReport = System.nanoTime();

        Batched(Progress to) {
            this.to = to;
        }

        void sent(long size) {
            files++;
            bytes += size;
            if (System.nanoTime() - lastReport >= PROGRESS_EVERY_NANOS) {
                flush();
            }
        }

        void flush() {
            if (files > 0) {
                to.sent(files, bytes);
            }
            files = 0;
            bytes = 0;
            lastReport = System.nanoTime();
        }
    }

    /** The zip's {@code .java} entries, in the zip's order: the file numbers of the work channel. */
    static List<ZipEntry> sources(ZipFile z) {
        return z.stream().filter(e -> !e.isDirectory() && e.getName().endsWith(".java")).map(e -> (ZipEntry) e).toList();
    }

    private static byte[] read(ZipFile z, ZipEntry e) throws IOException {
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
                each.accept(new String(src, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                start = -1;
            }
        }
    }

    /** The single-process baseline: the same counts, one thread, no circuit. */
    public static Result baseline(Path zip, int limit, int k) throws IOException {
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
        return new Result(done[0], done[1], done[2], topOf(counts.entrySet(), k));
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
