package io.jcircuit.host;

import io.jcircuit.Anchor;
import io.jcircuit.Circuit;
import io.jcircuit.CircuitException;
import io.jcircuit.ExecSpec;
import io.jcircuit.OutputSink;
import io.jcircuit.Proc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An operating-system process a host runs for a client (the Go Circuit v2's {@code mkproc}). The
 * client holds a reference to it. Its output is pumped, in chunks of up to {@value #CHUNK} bytes,
 * into the client's sinks, or into {@code stdout}/{@code stderr} files in its directory. While it
 * runs, the host's runtime is filed under the requested anchor with {@code pid} and {@code command}.
 *
 * <p>The pipe of a stream that goes to a sink is read by this JVM: once it exits, the process's next
 * write to that stream gets SIGPIPE. Nothing hands the pipe on (no other process can take over the
 * read end of a pipe this JVM holds without racing the pump that reads it), so only a process whose
 * output goes to files outlives its host's process.
 */
final class HostProc implements Proc {

    private static final Logger LOG = LoggerFactory.getLogger(HostProc.class);
    static final int CHUNK = 64 * 1024;
    private static final Map<String, String> SIGNALS = Map.of("TERM", "TERM", "KILL", "KILL", "INT", "INT",
        "HUP", "HUP", "USR1", "USR1", "USR2", "USR2", "STOP", "STOP", "CONT", "CONT");

    private final String host;
    private final Process process;
    private final OutputStream stdin;
    /** What pumps its output into the client's sinks; waitFor waits for them too. */
    private final java.util.List<Pump> pumps = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** What the host does once the process has ended (its exit file, its listing removed); waitFor waits for them too. */
    private final java.util.List<java.util.concurrent.CompletableFuture<?>> afterExit = new java.util.concurrent.CopyOnWriteArrayList<>();

    private HostProc(String host, Process process) {
        this.host = host;
        this.process = process;
        this.stdin = process.getOutputStream();
    }

    /**
     * Starts {@code spec}'s command with its own directory under {@code procsDir}. {@code listed} holds
     * the anchors of this host's processes that run or are starting: one process per anchor directory,
     * also for two execs that race for one. A process whose listing fails is ended, and the exec fails:
     * its caller would have no reference to end it with.
     */
    static HostProc start(String host, Circuit runtime, Path procsDir, ExecSpec spec, java.util.Set<String> listed) {
        if (spec.anchor() != null && (runtime.anchors().filed().contains(spec.anchor()) || !listed.add(spec.anchor()))) {
            throw new IllegalStateException("host " + host + " already lists a process under " + spec.anchor()
                + "; give each process its own anchor directory");
        }
        try {
            return startListed(host, runtime, procsDir, spec, listed);
        } catch (RuntimeException | Error e) {
            if (spec.anchor() != null) {
                listed.remove(spec.anchor());
            }
            throw e;
        }
    }

    private static HostProc startListed(String host, Circuit runtime, Path procsDir, ExecSpec spec, java.util.Set<String> listed) {
        Path own;
        try {
            own = Files.createTempDirectory(Files.createDirectories(procsDir), "proc-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a directory for a process under " + procsDir, e);
        }
        ProcessBuilder pb = new ProcessBuilder(spec.command())
            .directory((spec.dir() != null ? Path.of(spec.dir()) : own).toFile());
        pb.environment().putAll(spec.env());
        if (spec.stdout() == null) {
            pb.redirectOutput(own.resolve("stdout").toFile());
        }
        if (spec.stderr() == null) {
            pb.redirectError(own.resolve("stderr").toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            Dirs.deleteTree(own); // nothing ran: nothing to read there, and 'circuit clear' could not tell
            throw new CircuitException("host " + host + " cannot run " + spec.command() + ": " + e.getMessage(), e);
        }
        try {
            WorkerDir.recordStart(own, p.toHandle()); // so that 'circuit clear' can tell when it has ended
        } catch (IOException e) {
            LOG.debug("cannot record the start of process {} in {}: {}", p.pid(), own, e.toString());
        }
        Anchor anchor = null;
        if (spec.anchor() != null) {
            try {
                anchor = runtime.anchors().file(spec.anchor(),
                    Map.of("kind", "process", "pid", Long.toString(p.pid()), "command", String.join(" ", spec.command())));
            } catch (RuntimeException e) {
                p.destroyForcibly(); // nothing could end it: the caller gets no reference
                throw e;
            }
        }
        HostProc proc = new HostProc(host, p);
        if (spec.anchor() != null) {
            Anchor a = anchor;
            proc.afterExit.add(p.onExit().thenRun(() -> {
                try {
                    a.close();
                } finally {
                    listed.remove(spec.anchor());
                }
            }));
        }
        if (spec.stdout() != null) {
            proc.pumps.add(pump(p.getInputStream(), spec.stdout(), own.resolve("stdout"), "stdout of " + p.pid()));
        }
        if (spec.stderr() != null) {
            proc.pumps.add(pump(p.getErrorStream(), spec.stderr(), own.resolve("stderr"), "stderr of " + p.pid()));
        }
        try {
            Files.writeString(own.resolve("command"), String.join(" ", spec.command()) + "\n");
        } catch (IOException ignored) {
            // a convenience for post-mortems only
        }
        proc.afterExit.add(p.onExit().thenRun(() -> {
            try {
                Files.writeString(own.resolve("exit"), p.exitValue() + "\n");
            } catch (IOException ignored) {
                // a convenience for post-mortems only
            }
        }));
        return proc;
    }

    /**
     * The thread that pumps one output stream into its sink. It is {@code reading} while it waits for
     * output, having handed the sink all it read; otherwise a chunk, or the sink's close, is on its way.
     */
    private static final class Pump {
        volatile Thread thread;
        volatile boolean reading;

        /** Whether it still owes its sink output, or the close, that it has: not merely waiting for more. */
        boolean owesItsSink() {
            return thread.isAlive() && !reading;
        }
    }

    /**
     * Pumps {@code in} into {@code sink}; once the sink fails (its runtime gone, or it threw), the rest
     * goes to {@code file}, from the chunk that failed on: a pipe left unread would stop the process, or
     * end it with SIGPIPE once closed, and a process outlives the runtime that started it.
     */
    private static Pump pump(InputStream in, OutputSink sink, Path file, String what) {
        Pump pump = new Pump();
        // a platform thread, as HostDaemon's readers of worker output: a pipe read would hold a carrier
        pump.thread = Thread.ofPlatform().daemon().name("proc-pump-" + what).start(() -> {
            byte[] buf = new byte[CHUNK];
            OutputStream rest = null;
            try (in) {
                for (int n; (n = read(pump, in, buf)) > 0; ) {
                    if (rest == null) {
                        try {
                            sink.write(Arrays.copyOf(buf, n));
                            continue;
                        } catch (RuntimeException e) {
                            LOG.info("the sink of the {} failed ({}); the rest goes to {}", what, e.toString(), file);
                            rest = Files.newOutputStream(file);
                        }
                    }
                    rest.write(buf, 0, n);
                }
            } catch (IOException e) {
                LOG.debug("stopped pumping {}: {}", what, e.toString());
            } finally {
                if (rest != null) {
                    try {
                        rest.close();
                    } catch (IOException e) {
                        LOG.debug("cannot close {}: {}", file, e.toString());
                    }
                }
                try {
                    sink.close(); // also after it failed: one that failed once may be waiting for the end
                } catch (RuntimeException e) {
                    LOG.debug("cannot close the sink of {}: {}", what, e.toString());
                }
            }
        });
        return pump;
    }

    /** Reads the next chunk for {@code pump}, marked as {@link Pump#reading} meanwhile. */
    private static int read(Pump pump, InputStream in, byte[] buf) throws IOException {
        pump.reading = true;
        try {
            return in.read(buf);
        } finally {
            pump.reading = false;
        }
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public void write(byte[] bytes) {
        onInputThread(() -> {
            stdin.write(bytes);
            stdin.flush();
        }, "write to");
    }

    @Override
    public void closeInput() {
        onInputThread(stdin::close, "close");
    }

    /** Something done to the process's standard input. */
    @FunctionalInterface
    private interface InputStep {
        void run() throws IOException;
    }

    /**
     * Runs {@code step} on this process's input thread, in call order, and waits for it. A write blocks
     * while the process does not read and the pipe is full. The call's virtual thread waits here
     * unmounted; had it written itself, it would have held a carrier of the host for as long, and a
     * few such calls would have stopped every other call into the host.
     */
    private void onInputThread(InputStep step, String what) {
        java.util.concurrent.atomic.AtomicBoolean begun = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.Future<?> done = input().submit(() -> {
            if (begun.compareAndSet(false, true)) { // else its caller gave up while it waited its turn
                step.run();
            }
            return null;
        });
        try {
            java.util.OptionalLong left = io.jcircuit.Deadline.remainingNanos();
            if (left.isEmpty()) {
                done.get();
            } else {
                try {
                    done.get(Math.max(0, left.getAsLong()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException late) {
                    // One still waiting its turn (behind a write the process does not read) never goes: a
                    // caller that tries again must not have its bytes written twice. One under way may end.
                    boolean stopped = begun.compareAndSet(false, true);
                    throw new io.jcircuit.DeadlineExceededException(null, "the deadline passed while waiting to " + what
                        + " the input of process " + pid() + (stopped ? "; nothing was written, nor will be"
                        : "; it had begun, and may still end (the process does not read its input)"), stopped);
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw new UncheckedIOException("cannot " + what + " the input of process " + pid() + ": " + cause.getMessage(),
                cause instanceof IOException io ? io : new IOException(cause));
        } catch (InterruptedException e) {
            done.cancel(true);
            Thread.currentThread().interrupt();
            throw new CircuitException("interrupted while waiting to " + what + " the input of process " + pid(), e);
        }
    }

    /**
     * The platform thread that writes this process's input: started on first use, and ended after
     * {@value #INPUT_IDLE_SECONDS} s without work (started again if more comes).
     */
    private synchronized java.util.concurrent.ExecutorService input() {
        if (input == null) {
            java.util.concurrent.ThreadPoolExecutor one = new java.util.concurrent.ThreadPoolExecutor(1, 1,
                INPUT_IDLE_SECONDS, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
                Thread.ofPlatform().daemon().name("proc-stdin-" + pid()).factory());
            one.allowCoreThreadTimeOut(true);
            input = one;
        }
        return input;
    }

    private static final long INPUT_IDLE_SECONDS = 5;

    private java.util.concurrent.ExecutorService input;

    @Override
    public void signal(String signal) {
        String name = SIGNALS.get(signal == null ? "" : signal.toUpperCase().replaceFirst("^SIG", ""));
        if (name == null) {
            throw new IllegalArgumentException("unknown signal '" + signal + "'; use one of " + SIGNALS.keySet());
        }
        if (!process.isAlive()) {
            throw new IllegalStateException("process " + pid() + " on host " + host + " has ended with status "
                + process.exitValue());
        }
        switch (name) {
            case "TERM" -> process.destroy();
            case "KILL" -> process.destroyForcibly();
            default -> {
                try {
                    int rc = new ProcessBuilder("kill", "-s", name, Long.toString(pid())).start().waitFor();
                    if (rc != 0) {
                        throw new CircuitException("kill -s " + name + " " + pid() + " failed with status " + rc);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CircuitException("interrupted while signalling " + pid(), e);
                }
            }
        }
    }

    @Override
    public Optional<Integer> awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return Optional.empty();
            }
            // and for its output to reach the sinks: a write is a call that returns once the sink has it
            for (Pump t : pumps) {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    t.thread.join(Duration.ofNanos(left));
                }
                if (t.owesItsSink()) {
                    // Not a status yet: the caller would take the output for delivered. A pump that waits
                    // for more has delivered all it read: a process the command started keeps the output open.
                    return Optional.empty();
                }
            }
            // and for its exit file and its listing's removal, so that what the caller looks at next agrees
            for (java.util.concurrent.CompletableFuture<?> f : afterExit) {
                try {
                    f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    LOG.debug("process {} ended; what follows its end is not done: {}", pid(), e.toString());
                }
            }
            return Optional.of(process.exitValue());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CircuitException("interrupted while waiting for process " + pid(), e);
        }
    }

    @Override
    public Optional<Integer> exitStatus() {
        return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }
}
