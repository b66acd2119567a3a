package io.jcircuit.examples.wordcount;

import io.jcircuit.Chan;
import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
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
 * A streaming multi-stage MapReduce over the Java sources of a zip (the JDK's {@code lib/src.zip}):
 * a source worker streams source files into a channel; mapper workers tokenize identifiers and
 * stream partial counts, partitioned by key hash, into the channels of reducer workers; then the
 * reducers' top k are merged by a {@code go} on a reducer's worker. Every stage runs in a worker
 * spawned on the hosts, and each channel lives in the worker that reads or fills it, so that the
 * data crosses one link per stage.
 */
public final class WordCount {

    static final int COMBINE = 20_000; // distinct words a mapper collects for one reducer before it sends them
    static final Duration JOB_DEADLINE = Duration.ofHours(1);
    /**
     * The workers live for one job of seconds, so they compile with C1 only: C2 would spend more CPU
     * compiling, on machines with few cores, than its faster code gives back before the job ends.
     * On 2 cores this took the demo from 19.3 s to 14.7 s. Long-lived workers keep the JVM's default.
     *
     * <p>They also start with a young generation of 64 MB (and an 80 MB heap, so that the old
     * generation has room from the start). A worker starts with a 16 MB heap by default, so that an
     * idle one stays small, which leaves the serial collector a young generation of about 5 MB. These
     * workers allocate tens of MB per second: with 5 MB the collector ran up to 200 times per worker
     * in one demo, and the JVMs' VM threads, where it runs, took a fifth of the CPU while the files
     * streamed. Demo on 2 cores, builds alternated: 6.2-6.8 s with this, 7.0-7.1 s without.
     */
    static final SpawnOptions SHORT_LIVED = SpawnOptions.defaults().withJvmArgs("-XX:TieredStopAtLevel=1", "-Xms80m", "-Xmn64m");

    /** A reducer: one partition of the counts, in a worker that lives while the driver holds this. */
    public interface Reducer {
        Chan<Map<String, Long>> input();
        /** The partition's k most frequent words, once its input is closed and merged. */
        List<Map.Entry<String, Long>> top(int k) throws InterruptedException;
    }

    /** Told how far the source has got: files and bytes sent since the last report. */
    @FunctionalInterface
    public interface Progress {
        void sent(int files, long bytes);
    }

    /** The source reports progress at most this often, so that the report is no remote call per file. */
    static final long PROGRESS_EVERY_NANOS = 100_000_000L;

    /** What a run found. */
    public record Result(long files, long bytes, long tokens, List<Map.Entry<String, Long>> top) {
    }

    /** Runs the pipeline on {@code circuit}: {@code mappers} and {@code reducers} workers, the first {@code limit} files. */
    public static Result run(Circuit circuit, Path zip, int mappers, int reducers, int k, int limit, Progress progress)
        throws Exception {
        // The stages' spawns and calls last as long as the job, not the default deadline of a call.
        return Deadline.within(JOB_DEADLINE, () -> runStages(circuit, zip, mappers, reducers, k, limit, progress));
    }

    private static Result runStages(Circuit circuit, Path zip, int mappers, int reducers, int k, int limit,
                                    Progress progress) throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Spawned<Reducer>>> rs = new ArrayList<>();
            for (int i = 0; i < reducers; i++) {
                rs.add(threads.submit(() -> circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/reduce"), WordCount::reducer, SHORT_LIVED)));
            }
            List<Future<Spawned<Mapper>>> mapperSpawns = new ArrayList<>();
            for (int i = 0; i < mappers; i++) {
                mapperSpawns.add(threads.submit(() -> circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/map"), WordCount::mapper, SHORT_LIVED)));
            }
            String zipPath = zip.toString();
            Future<Spawned<Source>> sourceSpawn = threads.submit(() ->
                circuit.spawn(Circuit.ANY_HOST, List.of("/wordcount/source"), WordCount::source, SHORT_LIVED));
            // All workers start at once; each stage is wired up once the workers it needs are there.
            List<Reducer> reducerRefs = new ArrayList<>();
            List<Chan<Map<String, Long>>> ins = new ArrayList<>();
            for (Future<Spawned<Reducer>> r : rs) {
                reducerRefs.add(r.get().result());
                ins.add(r.get().result().input());
            }
            Source source = sourceSpawn.get().result();
            Chan<byte[]> files = source.files(); // owned by the source: each file crosses one link, to a mapper
            List<Future<Long>> ms = new ArrayList<>();
            for (Future<Spawned<Mapper>> m : mapperSpawns) {
                Mapper mapper = m.get().result();
                ms.add(threads.submit(() -> mapper.map(files, ins)));
            }
            long[] sent = source.send(zipPath, limit, circuit.ref(Progress.class, progress));
            long tokens = 0;
            for (Future<Long> m : ms) {
                tokens += m.get();
            }
            ins.forEach(Chan::close);
            // The aggregation is small: it runs on a reducer's worker rather than in a JVM of its own.
            List<Map.Entry<String, Long>> top = rs.getFirst().get().worker().go(() -> {
                List<Map.Entry<String, Long>> all = new ArrayList<>();
                for (Reducer r : reducerRefs) {
                    all.addAll(r.top(k)); // partitions are disjoint: the top k is among theirs
                }
                return topOf(all, k);
            });
            return new Result(sent[0], sent[1], tokens, top);
        }
    }

    /** The source stage: a worker that owns the channel of files and fills it from a zip. */
    public interface Source {
        Chan<byte[]> files();
        /** Sends the first {@code limit} sources of {@code zip}, telling {@code progress} now and then, then closes the channel; returns {files, bytes}. */
        long[] send(String zip, int limit, Progress progress) throws IOException;
    }

    /** Runs in the source worker. */
    static Source source() {
        Circuit here = Circuit.current();
        Chan<byte[]> files = here.makeChan(64);
        return here.ref(Source.class, new Source() {
            @Override
            public Chan<byte[]> files() {
                return files;
            }

            @Override
            public long[] send(String zip, int limit, Progress progress) throws IOException {
                Batched batched = new Batched(progress);
                long[] sent = forEachSource(Path.of(zip), limit, src -> {
                    files.send(src);
                    batched.sent(src.length);
                }, files);
                batched.flush();
                return sent;
            }
        });
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

    /** A mapper: a worker that tokenizes files while the driver holds this. */
    public interface Mapper {
        /** Tokenizes files until {@code files} is drained, sending partial counts into {@code outs}; returns its token count. */
        long map(Chan<byte[]> files, List<Chan<Map<String, Long>>> outs);
    }

    /** Runs in a mapper worker. */
    static Mapper mapper() {
        return Circuit.current().ref(Mapper.class, WordCount::map);
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
                return topOf(counts.entrySet(), k);
            }
        });
    }

    /** What a {@link Mapper} does, in its worker. */
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
        return new Result(sent[0], sent[1], tokens[0], topOf(counts.entrySet(), k));
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
