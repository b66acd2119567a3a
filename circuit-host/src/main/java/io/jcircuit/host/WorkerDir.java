package io.jcircuit.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The two files of a worker's directory ({@code STATE_DIR/workers/ID}) that tell whether its worker
 * has ended, and the reading of them that {@code circuit clear} relies on.
 *
 * <ul>
 *   <li>{@value #PID}: written by the host as soon as the JVM has started: its process id and start
 *       time in epoch milliseconds, such as {@code 4242 1764460800120}.</li>
 *   <li>{@value #EXIT}: written by the host when the JVM ends: its exit status.</li>
 * </ul>
 *
 * <p>A host that was killed, or a worker that outlived its host (a daemonized one), leaves no
 * {@value #EXIT} file. Such a worker has ended when no process with its id and start time runs any
 * more; the start time tells a reused process id apart.
 */
public final class WorkerDir {

    /** Holds the exit status, once the worker has ended under a running host. */
    public static final String EXIT = "exit";
    /** Holds the process id and start time of the worker's JVM. */
    public static final String PID = "pid";

    /**
     * Start times read from {@code /proc} are in clock ticks (10 ms) and converted against the boot
     * time; two readings of one process were seen to differ by a millisecond or two. A reused process
     * id starts later than this.
     */
    private static final Duration SAME_START = Duration.ofSeconds(1);

    private WorkerDir() {
    }

    /** Writes {@value #PID} for {@code process} into {@code dir}. */
    static void recordStart(Path dir, ProcessHandle process) throws IOException {
        long started = process.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
        Files.writeString(dir.resolve(PID), process.pid() + " " + started + "\n");
    }

    /**
     * How the worker of {@code dir} ended, in words ({@code "exit status 0"}, {@code "process 4242
     * ended; no exit status was recorded"}), or empty while it may still run: no {@value #EXIT} file,
     * and a {@value #PID} file that is missing, unreadable, or names a process that runs.
     */
    public static Optional<String> end(Path dir) {
        Path exit = dir.resolve(EXIT);
        if (Files.isRegularFile(exit, LinkOption.NOFOLLOW_LINKS)) {
            String status = read(exit);
            return Optional.of(status.isEmpty() ? "exit status unknown" : "exit status " + status);
        }
        Optional<Recorded> recorded = recorded(dir);
        if (recorded.isEmpty()) {
            return Optional.empty(); // the host is starting it, it predates pid files, or the file is garbled
        }
        Recorded r = recorded.get();
        return running(r.pid(), r.startedMillis()) ? Optional.empty()
            : Optional.of("process " + r.pid() + " ended; no exit status was recorded");
    }

    /**
     * The process of the worker of {@code dir} while it runs: the one its {@value #PID} file names, with
     * the start time recorded there (a reused process id is told apart by it). Empty once it has ended,
     * and when {@code dir} has no such file or an {@value #EXIT} file.
     */
    static Optional<ProcessHandle> runningProcess(Path dir) {
        if (Files.exists(dir.resolve(EXIT), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return recorded(dir).filter(r -> r.startedMillis() >= 0 && running(r.pid(), r.startedMillis()))
            .flatMap(r -> ProcessHandle.of(r.pid()));
    }

    /** What a {@value #PID} file holds: the process id, and its start time in epoch ms (-1: not recorded). */
    private record Recorded(long pid, long startedMillis) {
    }

    /** The {@value #PID} file of {@code dir}; empty when it is missing or garbled. */
    private static Optional<Recorded> recorded(Path dir) {
        Path pidFile = dir.resolve(PID);
        if (!Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        String[] fields = read(pidFile).split("\\s+");
        try {
            return Optional.of(new Recorded(Long.parseLong(fields[0]), fields.length > 1 ? Long.parseLong(fields[1]) : -1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean running(long pid, long startedMillis) {
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) {
            return false;
        }
        Optional<Instant> start = p.get().info().startInstant();
        if (startedMillis < 0 || start.isEmpty()) {
            return true; // cannot tell a reused id apart: say it may run
        }
        return Math.abs(start.get().toEpochMilli() - startedMillis) <= SAME_START.toMillis();
    }

    private static final java.util.regex.Pattern CLASSPATH_JAR = java.util.regex.Pattern.compile("@([0-9a-f]{64})(?=,|$)");

    /**
     * The SHA-256 of each jar on the classpath named in the spawn metadata of the worker in {@code dir}
     * ({@code name@sha256,...}); empty when it cannot be read.
     */
    static List<String> jarsOf(Path dir) {
        java.util.Properties meta = new java.util.Properties();
        try (var in = Files.newBufferedReader(dir.resolve(io.jcircuit.runtime.host.WorkerMain.META_FILE),
                java.nio.charset.StandardCharsets.UTF_8)) {
            meta.load(in);
        } catch (IOException | IllegalArgumentException e) {
            return List.of();
        }
        return CLASSPATH_JAR.matcher(meta.getProperty("classpath", "")).results().map(m -> m.group(1)).toList();
    }

    /** The most of a file's end that {@link #tail} reads: well within a frame. */
    static final int MAX_TAIL_BYTES = 4 << 20;

    /**
     * The last {@code lines} lines of {@code file}, read from at most its last {@code maxBytes} bytes
     * (so the first line returned may be cut); empty when the file is missing or empty. Bytes that are
     * not UTF-8 are replaced, not refused: a worker's output is whatever it printed.
     */
    static List<String> tail(Path file, int lines, int maxBytes) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        byte[] bytes;
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            long size = ch.size();
            int n = (int) Math.min(size, maxBytes);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(n);
            long at = size - n;
            while (buf.hasRemaining()) {
                int r = ch.read(buf, at + buf.position());
                if (r < 0) {
                    break; // shrunk meanwhile
                }
            }
            bytes = java.util.Arrays.copyOf(buf.array(), buf.position());
        }
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        List<String> all = text.lines().toList();
        return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
