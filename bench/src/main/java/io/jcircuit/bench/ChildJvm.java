package io.jcircuit.bench;

import io.jcircuit.host.CpuOptions;
import io.jcircuit.host.NettyOptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One child JVM of the bench, started with the orchestrator's own java binary and classpath. Two
 * daemon threads drain its stdout and stderr so it never blocks on a full pipe: lines that start with
 * {@link #PROTOCOL_PREFIX} are kept for {@link #awaitLine}, every other line goes into a bounded tail
 * that failure messages quote.
 *
 * <p>Lifecycle: {@link #start} runs the process; {@link #close} closes its stdin (the children exit
 * on that), waits briefly and then destroys it forcibly. Always close it, in a try-with-resources.
 * Not thread-safe: one thread awaits lines and closes.
 */
final class ChildJvm implements AutoCloseable {

    /** Every protocol line a child prints starts with this; other stdout lines are noise. */
    static final String PROTOCOL_PREFIX = "BENCH-";
    /**
     * Flags of every child JVM: the flags every JCircuit JVM gets, Netty's properties that the JVMs
     * JCircuit starts get ({@link NettyOptions}), a fixed collector and heap so that both passes run the
     * same JVM, and the host name that RMI stubs carry. Those that depend on the JVM's CPUs
     * ({@link CpuOptions}) come after them.
     */
    static final List<String> JVM_FLAGS = jvmFlags();

    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        flags.addAll(NettyOptions.FOR_STARTED_JVMS);
        flags.addAll(List.of("-XX:+UseParallelGC", "-Xms256m", "-Xmx512m", "-Djava.rmi.server.hostname=127.0.0.1"));
        return List.copyOf(flags);
    }

    private static final int TAIL_LINES = 30;
    private static final long POLL_MS = 50;
    private static final long EXIT_GRACE_MS = 3_000;

    private final String role;
    private final List<String> command;
    private final Process process;
    private final BlockingQueue<String> protocolLines = new LinkedBlockingQueue<>();
    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final CountDownLatch stdoutEnded = new CountDownLatch(1);
    private final CountDownLatch stderrEnded = new CountDownLatch(1);

    private ChildJvm(String role, List<String> command, Process process) {
        this.role = role;
        this.command = command;
        this.process = process;
    }

    /**
     * Starts {@code mainClass} with {@code args} in a new JVM, under {@code taskset -c 0} when
     * {@code pinned}.
     *
     * @throws BenchException when the process cannot be started (e.g. no {@code taskset})
     */
    static ChildJvm start(String role, boolean pinned, Class<?> mainClass, List<String> args) {
        List<String> command = command(pinned, mainClass, args);
        Process p;
        try {
            p = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new BenchException("cannot start the bench " + role + " JVM: " + e.getMessage()
                + (pinned ? " (the 1cpu pass needs taskset, from util-linux)" : ""), e);
        }
        ChildJvm child = new ChildJvm(role, command, p);
        child.drain(p.getInputStream(), "stdout", child.stdoutEnded);
        child.drain(p.getErrorStream(), "stderr", child.stderrEnded);
        return child;
    }

    static List<String> command(boolean pinned, Class<?> mainClass, List<String> args) {
        List<String> c = new ArrayList<>();
        if (pinned) {
            c.addAll(List.of("taskset", "-c", "0"));
        }
        c.add(javaBinary());
        c.addAll(JVM_FLAGS);
        c.addAll(CpuOptions.forCpus(pinned ? 1 : Runtime.getRuntime().availableProcessors()));
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(mainClass.getName());
        c.addAll(args);
        return c;
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
            .orElse(System.getProperty("java.home") + "/bin/java");
    }

    /**
     * Waits for the child's line that starts with {@code prefix} and returns the rest of it.
     *
     * @throws BenchException with the child's exit code and stderr tail when it exits first or prints
     *                        no such line within {@code timeoutMs}; also when this thread is
     *                        interrupted (the interrupt flag stays set)
     */
    String awaitLine(String prefix, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try {
            while (true) {
                String line = protocolLines.poll(POLL_MS, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith(prefix)) {
                    return line.substring(prefix.length());
                } else if (line != null) {
                    remember("stdout: " + line);
                } else if (stdoutEnded.getCount() == 0 && protocolLines.isEmpty()) {
                    throw failure("exited before printing its " + prefix.strip() + " line");
                } else if (System.nanoTime() > deadline) {
                    throw failure("printed no " + prefix.strip() + " line within " + timeoutMs + " ms");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchException("interrupted while waiting for the bench " + role + " JVM", e);
        }
    }

    private BenchException failure(String what) throws InterruptedException {
        boolean exited = process.waitFor(EXIT_GRACE_MS, TimeUnit.MILLISECONDS);
        stderrEnded.await(exited ? EXIT_GRACE_MS : 0, TimeUnit.MILLISECONDS);
        String status = exited ? "exit code " + process.exitValue() : "still running";
        StringBuilder sb = new StringBuilder("the bench ").append(role).append(" JVM ").append(what)
            .append(" (").append(status).append("). Its last output:");
        synchronized (tail) {
            if (tail.isEmpty()) {
                sb.append(" (none)");
            }
            tail.forEach(l -> sb.append(System.lineSeparator()).append("  ").append(l));
        }
        return new BenchException(sb.append(System.lineSeparator()).append("command: ")
            .append(String.join(" ", command)).toString());
    }

    private void drain(InputStream in, String stream, CountDownLatch ended) {
        Thread.ofPlatform().daemon().name("bench-" + role + "-" + stream).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (stream.equals("stdout") && line.startsWith(PROTOCOL_PREFIX)) {
                        protocolLines.add(line);
                    } else {
                        remember(stream.equals("stdout") ? "stdout: " + line : line);
                    }
                }
            } catch (IOException e) {
                remember("(" + stream + " unreadable: " + e.getMessage() + ")");
            } finally {
                ended.countDown();
            }
        });
    }

    private void remember(String line) {
        synchronized (tail) {
            if (tail.size() == TAIL_LINES) {
                tail.removeFirst();
            }
            tail.addLast(line);
        }
    }

    /** The child process, e.g. to check that it is gone after {@link #close}. */
    ProcessHandle handle() {
        return process.toHandle();
    }

    /** Closes stdin, gives the child {@value #EXIT_GRACE_MS} ms to exit, then destroys it forcibly. */
    @Override
    public void close() {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(EXIT_GRACE_MS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(EXIT_GRACE_MS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
