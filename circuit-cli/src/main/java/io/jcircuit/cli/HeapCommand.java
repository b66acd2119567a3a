package io.jcircuit.cli;

import io.jcircuit.Chan;
import io.jcircuit.ChanClosedException;
import io.jcircuit.Entry;
import io.jcircuit.runtime.ops.HistogramRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code circuit heap}: a worker's heap histogram, or its heap dump streamed into a local file in chunks
 * (neither side holds the whole dump in memory).
 */
@Command(name = "heap", mixinStandardHelpOptions = true,
    description = {"Print the heap histogram of selected workers (default), or stream one worker's heap dump to FILE.",
        "Examples:",
        "  circuit heap --histo --top 20 /sumr/...",
        "  circuit heap --dump sumr.hprof /sumr/R0123456789abcdef"})
final class HeapCommand extends WorkerVerb implements Callable<Integer> {

    /** With no chunk for this long, a dump download gives up: the worker died or stalled. */
    private static final long STALL_NANOS = 60_000_000_000L;


    @Option(names = "--histo", description = "The heap histogram: classes by bytes (the default).")
    boolean histo;

    /** Histogram rows unless {@code --top} is given. */
    private static final int DEFAULT_TOP = 25;

    @Option(names = "--top", paramLabel = "N", description = "Histogram rows per worker (default 25).")
    Integer top;

    @Option(names = "--dump", paramLabel = "FILE", description = "Stream a heap dump (HPROF) of one worker into FILE, which must not exist.")
    Path dump;

    @Option(names = "--live", description = "With --dump: only objects reachable now (runs a full GC first).")
    boolean live;

    @Option(names = "--json", description = "Print JSON (no progress bar).")
    boolean json;


    @Override
    public Integer call() throws IOException {
        if (dump != null && histo) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give --histo or --dump, not both");
        }
        if (live && dump == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--live needs --dump: it makes the heap dump hold only reachable objects");
        }
        if (top != null && dump != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--top sets the rows of the histogram; a heap dump (--dump) has no rows");
        }
        if (top != null && top < 1) { // checked once here, not by each worker
            throw new IllegalArgumentException("--top must be at least 1, not " + top);
        }
        try (WorkerOps w = open()) {
            List<Entry> workers = w.select(selector);
            return dump != null ? dump(w, workers) : histogram(w, workers);
        }
    }

    private int histogram(WorkerOps w, List<Entry> workers) {
        PrintWriter out = spec.commandLine().getOut();
        List<Object> all = new ArrayList<>();
        int failed = 0;
        for (Entry e : workers) {
            try {
                List<HistogramRow> rows = w.call(e, Duration.ofSeconds(60), ops -> ops.heapHistogram(top == null ? DEFAULT_TOP : top));
                if (json) {
                    List<Object> rs = new ArrayList<>();
                    for (HistogramRow r : rows) {
                        rs.add(Map.of("rank", r.rank(), "instances", r.instances(), "bytes", r.bytes(), "class", r.className()));
                    }
                    all.add(Map.of("worker", e.worker().toString(), "classes", rs));
                } else {
                    out.println("=== " + e.worker() + " (" + Columns.printable(e.host()) + ", pid " + e.pid() + ")");
                    List<String[]> table = new ArrayList<>();
                    table.add(new String[] {"#", "INSTANCES", "BYTES", "CLASS"});
                    for (HistogramRow r : rows) {
                        table.add(new String[] {Integer.toString(r.rank()), Long.toString(r.instances()), Long.toString(r.bytes()),
                            r.className()});
                    }
                    Columns.print(out, table);
                }
            } catch (RuntimeException ex) {
                failed++;
                spec.commandLine().getErr().println("circuit heap: " + e.worker() + ": " + WorkerOps.why(ex));
            }
        }
        if (json) {
            out.println(Json.write(Map.of("workers", all)));
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private int dump(WorkerOps w, List<Entry> workers) throws IOException {
        if (workers.size() != 1) {
            throw new IllegalArgumentException("--dump takes one worker; " + selector + " selects " + workers.size()
                + ": name one with /dir/R<id>");
        }
        if (Files.exists(dump)) {
            throw new IllegalArgumentException(dump + " exists; heap dumps never overwrite a file");
        }
        Path part = dump.resolveSibling(dump.getFileName() + ".part");
        if (Files.exists(part, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(part + " exists: another download into " + dump + " may be under way;"
                + " remove it, or give another file");
        }
        WorkerOps.checkWritable(dump); // before the worker pauses to write a dump that could not be kept
        Entry e = workers.getFirst();
        Chan<byte[]> chunks = w.client().makeChan(8);
        long size = w.call(e, Duration.ofMinutes(10), ops -> ops.heapDump(live, chunks));
        Progress bar = new Progress(spec.commandLine().getErr(), "heap dump of " + WorkerOps.shortId(e.worker().toString()), json);
        long got = 0;
        OutputStream opened;
        try {
            opened = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            throw new IOException(part + " appeared while the dump began: another download into " + dump
                + " is under way; nothing of it was touched", raced); // and not deleted: it is not this one's
        }
        try (OutputStream file = opened) {
            long lastChunk = System.nanoTime();
            long nextLook = lastChunk + WorkerOps.LIVENESS_NANOS;
            boolean filed = true; // the chunks are sent into this runtime's channel: a worker that ends closes nothing here
            while (got < size) { // the size came first: the last chunk ends the download, whenever the close arrives
                Optional<byte[]> c;
                try {
                    c = chunks.poll();
                } catch (ChanClosedException closed) {
                    break;
                }
                if (c.isPresent()) {
                    file.write(c.get());
                    got += c.get().length;
                    lastChunk = System.nanoTime();
                    bar.show(got, size, Progress.mib(got) + " of " + Progress.mib(size));
                } else if (!filed) {
                    // looked after the last poll came back empty: every chunk it sent before it left is written
                    throw new IOException("the worker " + e.worker() + " ended (it left /worker) with its heap dump at "
                        + got + " of " + size + " bytes");
                } else if (System.nanoTime() - lastChunk > STALL_NANOS) {
                    throw new IOException("the heap dump of " + e.worker() + " stalled at " + got + " of " + size
                        + " bytes: the worker stopped sending");
                } else if (System.nanoTime() - nextLook >= 0) {
                    // its host unfiles a worker within about a second of its process's end
                    nextLook = System.nanoTime() + WorkerOps.LIVENESS_NANOS;
                    try {
                        filed = w.namespace().hasEntry("/worker/" + e.worker());
                    } catch (io.jcircuit.anchor.NamespaceException away) {
                        // cannot tell while ZooKeeper is away: the stall bound still ends the wait
                    }
                } else {
                    LockSupport.parkNanos(2_000_000);
                }
            }
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(part);
            throw ex;
        }
        bar.done();
        if (got != size) {
            Files.deleteIfExists(part);
            throw new IOException("the heap dump of " + e.worker() + " ended at " + got + " of " + size + " bytes");
        }
        Files.move(part, dump);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("worker", e.worker().toString());
            m.put("file", dump.toAbsolutePath().toString());
            m.put("bytes", got);
            m.put("live", live);
            out.println(Json.write(m));
        } else {
            out.println(e.worker() + ": heap dump of " + Progress.mib(got) + " -> " + dump);
        }
        out.flush();
        return 0;
    }
}
