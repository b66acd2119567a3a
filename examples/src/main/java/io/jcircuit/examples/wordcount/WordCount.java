package io.jcircuit.examples.wordcount;

import io.jcircuit.Chan;
import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /** Workers that allocate tens of MB a second: a young generation for that, not an idle worker's 8 MB initial heap. */
    static final SpawnOptions SHORT_LIVED = SpawnOptions.defaults().withJvmArgs("-Xms80m", "-Xmn64m");

    /** One worker: a mapper and a reducer, living while the driver holds this. */
    public interface Node {
        /** This node's partition of the counts: partial counts go in, until it is closed. */
        Chan<Map<String, Long>> input();

        /**
         * Reads and tokenizes the files of {@code zip} numbered on {@code work} until it is drained, sending
         * partial counts into {@code outs}; returns {files, bytes, tokens}.
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

    /** A mapper reports progress at most this often: a report is a remote call (one per batch cost 0.4 s). */
    static final long PROGRESS_EVERY_NANOS = 100_000_000L;

    /** What a run found. */
    public record Result(long files, long bytes, long tokens, List<Map.Entry<String, Long>> top) {
    }

    /** Runs the job on {@code workers} workers, over the first {@code limit} sources; its calls may last as long as it does. */
    public static Result run(Circuit circuit, Path zip, int workers, int k, int limit, Progress progress) throws Exception {
        return Deadline.within(Duration.ofHours(1), () -> runJob(circuit, zip, workers, k, limit, progress));
    }

    private static Result runJob(Circuit circuit, Path zip, int workers, int k, int limit, Progress progress) throws Exception {
        int files = Math.min(limit, Words.count(zip)); // a bad path fails here, before any worker starts
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Spawned<Node>>> spawns = new ArrayList<>();
            for (int i = 0; i < workers; i++) { // all workers start at once
                spawns.add(threads.submit(() -> circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/node"), WordCount::node, SHORT_LIVED)));
            }
            Chan<int[]> work = circuit.makeChan(16); // the driver's: file numbers, not files, cross the links
            threads.submit(() -> { // a failure shows in the mappers' calls (the runtime closed, say)
                try {
                    for (int from = 0; from < files; from += FILES_PER_BATCH) {
                        work.send(new int[] {from, Math.min(files, from + FILES_PER_BATCH)});
                    }
                } finally {
                    work.close();
                }
            });
            try {
                List<Node> nodes = new ArrayList<>();
                List<Chan<Map<String, Long>>> ins = new ArrayList<>();
                for (Future<Spawned<Node>> s : spawns) {
                    nodes.add(s.get().result());
                    ins.add(nodes.getLast().input());
                }
                Progress reports = circuit.ref(Progress.class, progress);
                List<Future<long[]>> maps = new ArrayList<>();
                for (Node n : nodes) {
                    maps.add(threads.submit(() -> n.map(zip.toString(), work, ins, reports)));
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
                    return Words.topOf(all, k);
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
                return Words.topOf(counts.entrySet(), k);
            }
        });
    }

    /** What {@link Node#map} does, in its worker. */
    static long[] map(Path zip, Chan<int[]> work, List<Chan<Map<String, Long>>> outs, Progress progress) throws IOException {
        long[] done = new long[3]; // files, bytes, tokens
        long[] told = new long[2]; // files and bytes reported so far
        long reported = System.nanoTime();
        List<Map<String, Long>> parts = new ArrayList<>();
        outs.forEach(o -> parts.add(new HashMap<>()));
        try (ZipFile z = new ZipFile(zip.toFile())) {
            List<ZipEntry> sources = Words.sources(z);
            for (int[] batch : work) {
                for (int f = batch[0]; f < batch[1]; f++) {
                    byte[] src = Words.read(z, sources.get(f));
                    Words.tokenize(src, w -> {
                        parts.get(Math.floorMod(w.hashCode(), parts.size())).merge(w, 1L, Long::sum);
                        done[2]++;
                    });
                    done[0]++;
                    done[1] += src.length;
                }
                if (System.nanoTime() - reported >= PROGRESS_EVERY_NANOS) {
                    progress.sent((int) (done[0] - told[0]), done[1] - told[1]);
                    told[0] = done[0];
                    told[1] = done[1];
                    reported = System.nanoTime();
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
        if (done[0] > told[0]) {
            progress.sent((int) (done[0] - told[0]), done[1] - told[1]);
        }
        return done;
    }
}
