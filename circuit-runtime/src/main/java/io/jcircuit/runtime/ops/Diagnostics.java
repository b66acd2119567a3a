package io.jcircuit.runtime.ops;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Thread dumps, class histograms and heap dumps of this JVM, through the JDK's own management
 * beans, so they need no agent, no attach and no external tool.
 *
 * <p>Every method blocks the calling thread, and the histogram and the heap dump stop the whole
 * JVM while they run (seconds on a large heap): call them from a virtual thread or a worker, never
 * from an event loop, and not in a loop. Instances hold no state and are thread-safe; several
 * runtimes in one JVM see the same JVM.
 */
public final class Diagnostics {

    private static final String DIAGNOSTIC_COMMAND = "com.sun.management:type=DiagnosticCommand";

    /**
     * Diagnostics of the JVM this runs in. The platform beans are looked up on first use, not here:
     * every runtime builds one of these, and the platform bean server registers all the JDK's beans,
     * JFR's commands among them, which loaded about 300 classes into every idle worker.
     */
    public Diagnostics() {
    }

    private static HotSpotDiagnosticMXBean hotSpot() {
        return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    }

    private static MBeanServer server() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    private static ObjectName diagnosticCommand() {
        try {
            return new ObjectName(DIAGNOSTIC_COMMAND);
        } catch (MalformedObjectNameException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Dumps every thread's stack, virtual threads included, as plain text or as the JDK's JSON
     * thread dump format. The older {@code Thread.print} command and
     * {@link java.lang.management.ThreadMXBean} omit virtual threads that are not mounted, which
     * here are most of them (each call runs on one); {@code dumpThreads} includes them.
     *
     * <p>{@code dumpThreads} writes only to a file that does not exist yet, so the dump goes to a
     * new private temporary directory (owner-only on POSIX, as stacks may show what a thread
     * works on), is read back, and both are deleted. With millions of threads the dump is large
     * and the returned string with it.
     */
    public String threadDump(boolean json) throws IOException {
        Path dir = Files.createTempDirectory("jcircuit-threads-");
        Path file = dir.resolve(json ? "threads.json" : "threads.txt");
        try {
            hotSpot().dumpThreads(file.toAbsolutePath().toString(), json ? ThreadDumpFormat.JSON : ThreadDumpFormat.TEXT_PLAIN);
            return Files.readString(file, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The class histogram of the live heap ({@code jcmd GC.class_histogram}), trimmed to its
     * header, the {@code topN} classes with the most bytes, and the total line, which still counts
     * every class. It runs a full GC first, so only live objects count.
     *
     * @throws IllegalArgumentException if {@code topN} is negative
     */
    public String heapHistogram(int topN) {
        if (topN < 0) {
            throw new IllegalArgumentException("topN must not be negative: " + topN);
        }
        StringBuilder out = new StringBuilder();
        int rows = 0;
        for (String line : (Iterable<String>) classHistogram().lines()::iterator) {
            boolean row = HistogramRow.parse(line).isPresent();
            if (!row || rows++ < topN) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    /** The {@code topN} rows of {@link #heapHistogram}, parsed; the same full GC and blocking. */
    public List<HistogramRow> heapHistogramRows(int topN) {
        if (topN < 0) {
            throw new IllegalArgumentException("topN must not be negative: " + topN);
        }
        List<HistogramRow> rows = new ArrayList<>(Math.min(topN, 1024));
        for (String line : (Iterable<String>) classHistogram().lines()::iterator) {
            if (rows.size() == topN) {
                break;
            }
            HistogramRow.parse(line).ifPresent(rows::add);
        }
        return rows;
    }

    private String classHistogram() {
        try {
            return (String) server().invoke(diagnosticCommand(), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        } catch (JMException e) {
            throw new IllegalStateException("the DiagnosticCommand bean refused gcClassHistogram: " + e.getMessage(), e);
        }
    }

    /**
     * Writes an HPROF heap dump of this JVM to {@code file}, creating missing parent directories.
     * With {@code liveOnly} it runs a full GC first and dumps only reachable objects. The dump is
     * about as large as the heap in use; its size is {@code Files.size(file)}.
     *
     * @return the absolute path of the dump
     * @throws IllegalArgumentException   if the file name does not end with {@code .hprof}; HotSpot refuses other names
     * @throws FileAlreadyExistsException if {@code file} exists; a dump never overwrites a file
     */
    public Path heapDump(Path file, boolean liveOnly) throws IOException {
        Path target = file.toAbsolutePath();
        if (!target.getFileName().toString().endsWith(".hprof")) {
            throw new IllegalArgumentException("a heap dump file name must end with .hprof, as HotSpot requires: " + file);
        }
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "a heap dump never overwrites a file; choose a new name");
        }
        Path parent = target.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        hotSpot().dumpHeap(target.toString(), liveOnly);
        return target;
    }
}
