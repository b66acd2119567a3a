package io.jcircuit.host;

import io.jcircuit.CircuitException;
import io.jcircuit.ExecSpec;
import io.jcircuit.OutputSink;
import io.jcircuit.Proc;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Plain operating-system processes run by a host (mkproc), with real processes. */
class ProcTest {

    @TempDir
    static Path state;
    private static HostDaemon host;
    private static CircuitRuntime client;

    @BeforeAll
    static void start() {
        host = HostDaemon.start(new HostDaemon.Config("p1", state, null, null, 0, 0));
        client = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
    }

    @AfterAll
    static void stop() {
        client.close();
        host.close();
    }

    /** Collects a stream; closes a latch at its end. */
    static class Collector implements OutputSink {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CountDownLatch ended = new CountDownLatch(1);

        @Override
        public synchronized void write(byte[] chunk) {
            bytes.writeBytes(chunk);
        }

        @Override
        public void close() {
            ended.countDown();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void waitForWaitsAsLongAsItIsToldNotAsLongAsTheDefaultCallDeadline() {
        // a client whose calls get 1 s by default: before, waitFor(3 s) failed at 1 s
        try (CircuitRuntime quick = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper())
                 .defaultCallTimeoutMs(1_000).build())) {
            // the 1 s default is for waitFor; the rest (lookup, link, process start) gets room on a slow machine
            Duration room = Duration.ofSeconds(30);
            Proc p = io.jcircuit.Deadline.within(room, () -> quick.exec("p1", ExecSpec.of("sleep", "2")));
            assertThat(p.waitFor(Duration.ofSeconds(30))).contains(0);
            Proc q = io.jcircuit.Deadline.within(room, () -> quick.exec("p1", ExecSpec.of("sleep", "5")));
            assertThatThrownBy(() -> io.jcircuit.Deadline.within(Duration.ofMillis(500), () -> q.waitFor(Duration.ofSeconds(30))))
                .as("a shorter scope of the caller's still applies").isInstanceOf(io.jcircuit.DeadlineExceededException.class);
            io.jcircuit.Deadline.within(room, () -> {
                q.signal("KILL");
                return null;
            });
        }
    }

    @Test
    void streamsInputAndOutputAndReportsTheExitStatus() throws Exception {
        Collector out = new Collector();
        Collector err = new Collector();
        Proc p = client.exec("p1", ExecSpec.of("sh", "-c", "echo hi; echo oops >&2; read x; echo got $x; exit 3")
            .listedUnder("/procs/echo")
            .output(client.ref(OutputSink.class, out), client.ref(OutputSink.class, err)));

        assertThat(p.host()).isEqualTo("p1");
        assertThat(client.anchors().list("/procs/echo").entries()).singleElement().satisfies(e -> {
            assertThat(e.metadata()).containsEntry("kind", "process").containsEntry("pid", Long.toString(p.pid()));
            assertThat(e.metadata().get("command")).contains("read x");
        });
        // its output is read on platform threads: a virtual one blocked on a pipe would hold a carrier
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
            .contains("proc-pump-stdout of " + p.pid(), "proc-pump-stderr of " + p.pid());
        p.write("yo\n".getBytes(StandardCharsets.UTF_8));
        p.closeInput();

        assertThat(p.waitFor(Duration.ofSeconds(30))).contains(3);
        assertThat(p.exitStatus()).contains(3);
        assertThat(out.ended.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(err.ended.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(out.text()).isEqualTo("hi\ngot yo\n");
        assertThat(err.text()).isEqualTo("oops\n");
        // waitFor returns once the host has done what follows the end: no waiting for the listing to go
        assertThat(client.anchors().list("/procs/echo").entries()).isEmpty();
    }

    @Test
    void waitForReturnsOnceTheOutputHasReachedTheSinks() {
        Collector out = new Collector() {
            @Override
            public synchronized void write(byte[] chunk) {
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000); // a client slow to take its output
                super.write(chunk);
            }
        };
        Proc p = client.exec("p1", ExecSpec.of("seq", "1", "50000").output(client.ref(OutputSink.class, out), null));

        assertThat(p.waitFor(Duration.ofSeconds(60))).contains(0);
        // no waiting here: before, waitFor returned at the exit, with most of the output still on its way
        assertThat(out.text().lines()).hasSize(50_000).endsWith("50000");
        assertThat(out.ended.getCount()).as("the sink was closed").isZero();
    }

    /**
     * A process that has ended while its output is still on its way to a slow sink: waitFor gives no
     * status until the output has reached the sink and the sink is closed. Before, it returned the status
     * when its timeout ran out, with the output not delivered.
     */
    @Test
    void waitForReturnsAStatusOnlyOnceTheOutputHasReachedTheSinks() throws Exception {
        CountDownLatch taking = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Collector out = new Collector() {
            @Override
            public void write(byte[] chunk) {
                taking.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS); // a sink that takes its time with a chunk
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.write(chunk);
            }
        };
        Proc p = client.exec("p1", ExecSpec.of("echo", "delivered").output(client.ref(OutputSink.class, out), null));
        try {
            assertThat(taking.await(10, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> p.exitStatus().isPresent());

            assertThat(p.waitFor(Duration.ofMillis(200))).as("a status while the output has not reached the sink").isEmpty();
        } finally {
            release.countDown();
        }
        assertThat(p.waitFor(Duration.ofSeconds(10))).contains(0);
        assertThat(out.text()).isEqualTo("delivered\n");
        assertThat(out.ended.getCount()).as("the sink was closed").isZero();
    }

    /** A process the command started that keeps the output open holds waitFor's status only until the timeout. */
    @Test
    void waitForGivesTheStatusAtItsTimeoutWhenAProcessTheCommandStartedKeepsTheOutputOpen() {
        Collector out = new Collector();
        Proc p = client.exec("p1", ExecSpec.of("sh", "-c", "echo started; sleep 5 &")
            .output(client.ref(OutputSink.class, out), null));

        assertThat(p.waitFor(Duration.ofSeconds(1))).contains(0);
        assertThat(out.text()).isEqualTo("started\n");
    }

    @Test
    void signalsReachTheProcess() {
        Proc p = client.exec("p1", ExecSpec.of("sleep", "60"));
        assertThat(p.exitStatus()).isEmpty();
        assertThat(p.waitFor(Duration.ofMillis(50))).isEmpty();
        p.signal("TERM");
        assertThat(p.waitFor(Duration.ofSeconds(30))).contains(143);

        Proc q = client.exec("p1", ExecSpec.of("sleep", "60"));
        assertThatThrownBy(() -> p.signal("SIGCONT")).isInstanceOf(IllegalStateException.class).hasMessageContaining("has ended");
        assertThatThrownBy(() -> q.signal("BOGUS")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BOGUS");
        q.signal("KILL");
        assertThat(q.waitFor(Duration.ofSeconds(30))).contains(137);
    }

    @Test
    void writesToProcessesThatDoNotReadLeaveTheHostServingCalls() throws Exception {
        // Each write is more than a pipe holds, to a process that never reads it, so each blocks on the
        // host until the process ends. Written from the calls' own virtual threads, they held the host's
        // carriers; now they wait on each process's input thread.
        int stuck = 2 * Runtime.getRuntime().availableProcessors() + 2;
        java.util.List<Proc> sleepers = new java.util.ArrayList<>();
        java.util.List<Thread> writers = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        try {
            for (int i = 0; i < stuck; i++) {
                Proc p = client.exec("p1", ExecSpec.of("sleep", "60"));
                sleepers.add(p);
                writers.add(Thread.ofVirtual().start(() -> {
                    try {
                        io.jcircuit.Deadline.within(Duration.ofMinutes(2), () -> {
                            p.write(new byte[1 << 20]);
                            return null;
                        });
                    } catch (Exception | Error expected) {
                        failed.incrementAndGet(); // the process was killed under the write
                    }
                }));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("proc-stdin-")).count() >= stuck);
            // the host still runs a command and answers about it
            Proc quick = client.exec("p1", ExecSpec.of("true"));
            assertThat(quick.waitFor(Duration.ofSeconds(30))).contains(0);
        } finally {
            sleepers.forEach(p -> p.signal("KILL"));
        }
        for (Thread w : writers) {
            assertThat(w.join(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(failed.get()).as("every stuck write failed once its process was killed").isEqualTo(stuck);
    }

    @Test
    void aCommandThatCannotStartIsNamedAndLeavesNoDirectory() throws Exception {
        java.util.function.Supplier<java.util.List<Path>> dirs = () -> {
            try (var list = java.nio.file.Files.list(java.nio.file.Files.createDirectories(state.resolve("procs")))) {
                return list.toList();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        java.util.List<Path> before = dirs.get();
        assertThatThrownBy(() -> client.exec("p1", ExecSpec.of("/no/such/program")))
            .isInstanceOf(CircuitException.class).hasMessageContaining("/no/such/program");
        // before: an empty directory per failed exec, which 'circuit clear' kept for ever (no pid, no exit file)
        assertThat(dirs.get()).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void withoutSinksTheOutputGoesToFilesOnTheHost() throws Exception {
        Proc p = client.exec("p1", ExecSpec.of("sh", "-c", "echo to-a-file; exit 4"));
        assertThat(p.waitFor(Duration.ofSeconds(30))).contains(4);
        try (var dirs = java.nio.file.Files.list(state.resolve("procs"))) {
            // its exit file is there once waitFor has returned (it was written by an exit callback that could lag)
            assertThat(dirs.filter(d -> readQuietly(d.resolve("command")).startsWith("sh -c echo to-a-file"))
                .map(d -> readQuietly(d.resolve("exit")))).containsExactly("4\n");
        }
        try (var dirs = java.nio.file.Files.list(state.resolve("procs"))) {
            assertThat(dirs.map(d -> d.resolve("stdout")).filter(java.nio.file.Files::exists).map(f -> {
                try {
                    return java.nio.file.Files.readString(f);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            })).contains("to-a-file\n");
        }
    }

    /** Processes of this JVM (the host runs in it) whose command line holds {@code marker}. */
    private static java.util.List<ProcessHandle> running(String marker) {
        return ProcessHandle.current().descendants()
            .filter(h -> h.info().commandLine().map(c -> c.contains(marker)).orElse(false)).toList();
    }

    private static String marker() {
        return "proc-test-" + java.util.UUID.randomUUID();
    }

    /**
     * An exec whose listing fails after its process started (here an entry over 64 KiB) kills the
     * process: its caller has no reference to end it with. (A probe found it left running.)
     */
    @Test
    void anExecWhoseListingFailsLeavesNoProcessRunning() {
        String marker = marker();
        try {
            // 70 kB of script: fine for the kernel (an argument may have 128 kB), too much for an entry
            String script = "sleep 300 # " + marker + " " + "x".repeat(70_000);
            assertThatThrownBy(() -> client.exec("p1", ExecSpec.of("sh", "-c", script).listedUnder("/proc-test/long")))
                .isInstanceOf(IllegalArgumentException.class);
            await().untilAsserted(() -> assertThat(running(marker)).isEmpty());
            // and the anchor is free again
            Proc p = client.exec("p1", ExecSpec.of("true").listedUnder("/proc-test/long"));
            assertThat(p.waitFor(Duration.ofSeconds(30))).contains(0);
        } finally {
            running(marker).forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** Two execs racing for one anchor: one runs, the other is refused. (A probe found both running.) */
    @Test
    void twoExecsRacingForOneAnchorDoNotBothRun() throws Exception {
        String marker = marker();
        try {
            for (int round = 0; round < 5; round++) {
                String anchor = "/proc-test/race" + round;
                CountDownLatch go = new CountDownLatch(1);
                java.util.List<Proc> started = new java.util.concurrent.CopyOnWriteArrayList<>();
                java.util.List<Throwable> refused = new java.util.concurrent.CopyOnWriteArrayList<>();
                java.util.List<Thread> threads = new java.util.ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            go.await();
                            started.add(client.exec("p1", ExecSpec.of("sh", "-c", "sleep 300; : " + marker).listedUnder(anchor)));
                        } catch (Throwable t) {
                            refused.add(t);
                        }
                    }));
                }
                go.countDown();
                for (Thread t : threads) {
                    assertThat(t.join(Duration.ofSeconds(60))).isTrue();
                }
                assertThat(started).as("processes listed under " + anchor).hasSize(1);
                assertThat(refused).singleElement().isInstanceOf(IllegalStateException.class)
                    .extracting(Throwable::getMessage).asString().contains("already lists a process under " + anchor);
            }
        } finally {
            running(marker).forEach(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * A sink that fails (it threw, or its runtime closed) does not end the process with SIGPIPE: the
     * rest of the stream goes to the file on the host. (A probe found exit status 141.)
     */
    @Test
    void aProcessWhoseSinkFailsRunsToItsEndAndTheRestGoesToItsFile() throws Exception {
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch closed = new CountDownLatch(1);
        OutputSink failing = new OutputSink() {
            @Override
            public void write(byte[] chunk) {
                writes.incrementAndGet();
                throw new IllegalStateException("no room for output");
            }

            @Override
            public void close() {
                closed.countDown();
            }
        };
        Proc p = client.exec("p1", ExecSpec.of("seq", "1", "300000").output(client.ref(OutputSink.class, failing), null));
        assertThat(p.waitFor(Duration.ofSeconds(60))).contains(0);
        assertThat(writes.get()).as("the sink is not tried again").isEqualTo(1);
        assertThat(closed.await(30, TimeUnit.SECONDS)).isTrue();
        Path dir;
        try (var procs = java.nio.file.Files.list(state.resolve("procs"))) {
            dir = procs.filter(d -> readQuietly(d.resolve("command")).startsWith("seq 1 300000")).findFirst().orElseThrow();
        }
        assertThat(java.nio.file.Files.readString(dir.resolve("pid"))).startsWith(p.pid() + " "); // for 'circuit clear'
        String rest = java.nio.file.Files.readString(dir.resolve("stdout"));
        assertThat(rest).endsWith("\n299999\n300000\n");
        assertThat(rest.length()).isGreaterThan(1_500_000); // all but what the failed chunks held (64 KiB each)

        Proc q;
        try (CircuitRuntime watcher = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            q = client.exec("p1", ExecSpec.of("sh", "-c", "read x; seq 1 300000")
                .output(watcher.ref(OutputSink.class, new Collector()), null));
        }
        q.write("go\n".getBytes(StandardCharsets.UTF_8));
        q.closeInput();
        assertThat(q.waitFor(Duration.ofSeconds(60))).as("after the sink's runtime closed").contains(0);
    }

    /**
     * A host closed inside a program whose JVM goes on still reads the pipe of a process's output
     * that went to a sink: the process runs on, and the rest goes to its file. (Once the host's JVM
     * exits, the process's next write gets SIGPIPE: README, Processes.)
     */
    @Test
    void aProcessWithASinkRunsOnWhenItsHostIsClosedAndTheRestGoesToItsFile(@TempDir Path otherState) throws Exception {
        Collector out = new Collector();
        long pid;
        try (HostDaemon closing = HostDaemon.start(new HostDaemon.Config("p-closing", otherState, host.zookeeper(), null, 0, 0))) {
            Proc p = client.exec("p-closing", ExecSpec.of("sh", "-c", "while true; do echo tick; sleep 0.05; done")
                .output(client.ref(OutputSink.class, out), null));
            pid = p.pid();
            await().atMost(Duration.ofSeconds(10)).until(() -> out.text().contains("tick"));
        }
        Path procDir = null;
        try {
            try (var procs = java.nio.file.Files.list(otherState.resolve("procs"))) {
                procDir = procs.findFirst().orElseThrow();
            }
            Path stdout = procDir.resolve("stdout");
            await().atMost(Duration.ofSeconds(10)).until(() -> readQuietly(stdout).contains("tick\ntick\n"));
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("the process after its host closed").contains(true);
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            if (procDir != null) {
                // its end is still written there (its exit file), which must be done before the directory goes
                Path exit = procDir.resolve("exit");
                await().atMost(Duration.ofSeconds(10)).until(() -> java.nio.file.Files.exists(exit));
            }
        }
    }

    private static String readQuietly(Path f) {
        try {
            return java.nio.file.Files.readString(f);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /**
     * A write that times out while it waits its turn (behind one the process does not read) is never
     * written: a caller that tries again would have its bytes written twice. (A probe found it queued, and
     * written once the process read.)
     */
    @Test
    void aWriteThatTimedOutWaitingItsTurnIsNeverWritten() throws Exception {
        Collector out = new Collector();
        // stops itself before it reads: its input pipe fills and stays full until it is continued
        Proc p = client.exec("p1", ExecSpec.of("sh", "-c", "kill -STOP $$; cat").output(client.ref(OutputSink.class, out), null));
        await().until(() -> ProcessHandle.of(p.pid()).flatMap(h -> h.info().command()).isPresent()
            && java.nio.file.Files.readString(Path.of("/proc/" + p.pid() + "/stat")).split(" ")[2].equals("T"));
        byte[] big = new byte[256 * 1024];
        java.util.Arrays.fill(big, (byte) 'a');
        assertThatThrownBy(() -> io.jcircuit.Deadline.within(Duration.ofSeconds(1), () -> {
            p.write(big);
            return null;
        })).isInstanceOf(io.jcircuit.DeadlineExceededException.class);
        assertThatThrownBy(() -> io.jcircuit.Deadline.within(Duration.ofSeconds(1), () -> {
            p.write("MARK".getBytes(StandardCharsets.UTF_8));
            return null;
        })).isInstanceOf(io.jcircuit.DeadlineExceededException.class);
        p.signal("CONT");
        p.closeInput();
        assertThat(p.waitFor(Duration.ofSeconds(30))).contains(0);
        assertThat(out.ended.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out.text()).hasSize(big.length).doesNotContain("MARK");
    }
}
