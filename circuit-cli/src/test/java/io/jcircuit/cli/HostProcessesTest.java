package io.jcircuit.cli;

import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerId;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The host commands with real JVMs: workers spawned on a host that {@code stop} ends, and
 * {@code circuit start} run as its own process, stopped by {@code stop} and by SIGTERM.
 */
@Tag("slow")
class HostProcessesTest {

    @Test
    void shouldKillPlainWorkersAndKeepDaemonizedOnesWhenAHostStops(@TempDir Path zkState, @TempDir Path hostState) {
        try (CircuitRuntime circuit = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(zkState).build())) {
            String zk = circuit.embeddedZooKeeperConnectString().orElseThrow();
            HostDaemon host = HostDaemon.start(new HostDaemon.Config("w1", hostState, zk, null, 0, 0)); // no warm JVM: count workers only
            long plainPid = 0;
            long daemonPid = 0;
            try {
                // holding a reference into it keeps the plain worker alive until its host stops
                var plain = circuit.spawn("w1", List.of(), () -> io.jcircuit.Circuit.current()
                    .ref(java.util.function.LongSupplier.class, () -> ProcessHandle.current().pid()));
                var daemon = circuit.spawn("w1", List.of(), () -> ProcessHandle.current().pid(),
                    SpawnOptions.defaults().daemonized());
                plainPid = plain.result().getAsLong();
                daemonPid = daemon.result();
                WorkerId daemonId = daemon.worker().id();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(CliRun.run("hosts", "--json", "--dir", zkState.toString()).out()).contains("\"workers\":2"));
                assertThat(CliRun.run("clear", "--dir", hostState.toString()).out())
                    .contains("nothing to clear").contains("2 worker(s) that may still run kept");

                CliRun.Result r = CliRun.run("stop", "--dir", zkState.toString(), "w1");

                assertThat(r.code()).as(r.err()).isZero();
                assertThat(r.out()).contains("stopped host w1")
                    .contains("1 daemonized worker(s) keep running under /host/w1: " + daemonId)
                    .doesNotContain("ran the circuit's ZooKeeper"); // w1 joined one
                long plainDead = plainPid;
                await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(plainDead).map(p -> !p.isAlive()).orElse(true));
                assertThat(ProcessHandle.of(daemonPid).map(ProcessHandle::isAlive)).contains(true);
                // what only its stopped host could do for it names that host
                for (String[] verb : List.of(new String[] {"kill", "--force"}, new String[] {"log", "--stdout"})) {
                    CliRun.Result v = CliRun.run(verb[0], verb[1], "--dir", zkState.toString(), daemonId.toString());
                    assertThat(v.code()).as(verb[0]).isNotZero();
                    assertThat(v.err()).as(verb[0]).contains("host w1, which started it").contains("is not running")
                        .doesNotContain("no host started");
                }
                assertThat(ProcessHandle.of(daemonPid).map(ProcessHandle::isAlive)).contains(true);

                Path plainDir = hostState.resolve("workers").resolve(plain.worker().id().toString());
                await().atMost(Duration.ofSeconds(10)).until(() -> plainDir.resolve("exit").toFile().isFile());
                CliRun.Result cleared = CliRun.run("clear", "--dir", hostState.toString());
                assertThat(cleared.out()).startsWith("removed " + plainDir);
                assertThat(plainDir).doesNotExist();
                assertThat(hostState.resolve("workers").resolve(daemonId.toString())).isDirectory();
            } finally {
                host.close();
                ProcessHandle.of(daemonPid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void aDaemonizedWorkerRejoinsWhenTheHostThatRanTheZooKeeperStartsAgain(@TempDir Path state) {
        long daemonPid = 0;
        try {
            WorkerId daemonId;
            try (HostDaemon host = HostDaemon.start(new HostDaemon.Config("zh", state, null, null, 0, 0));
                 CircuitRuntime spawner = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
                var daemon = spawner.spawn("zh", List.of("/rejoin"), () -> ProcessHandle.current().pid(),
                    SpawnOptions.defaults().daemonized());
                daemonPid = daemon.result();
                daemonId = daemon.worker().id();
                CliRun.Result r = CliRun.run("stop", "--dir", state.toString(), "zh");
                assertThat(r.code()).as(r.err()).isZero();
                assertThat(r.out()).contains("1 daemonized worker(s) keep running under /host/zh: " + daemonId)
                    .contains("host zh ran the circuit's ZooKeeper");
            }
            // the same state directory: its ZooKeeper comes back at the same address, and the worker files itself again
            try (HostDaemon again = HostDaemon.start(new HostDaemon.Config("zh", state, null, null, 0, 0));
                 CircuitRuntime look = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(again.zookeeper()).build())) {
                // ZooKeeper restores the old session's entries from its data, and drops them a session timeout
                // (4 s) after it is up unless their owner reconnected: so the entry must last past that
                await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(30)).until(() ->
                    look.anchors().list("/rejoin").entries().stream().anyMatch(e -> e.worker().equals(daemonId)));
            }
        } finally {
            if (daemonPid != 0) {
                ProcessHandle.of(daemonPid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void shouldEndTheStartProcessWhenItsHostIsStopped(@TempDir Path dir) throws Exception {
        Started p1 = startProcess(dir, "p1");
        try {
            assertThat(p1.line()).contains("(embedded, run by this host)");
            assertThat(CliRun.run("hosts", "--dir", dir.toString()).out()).contains("p1");

            CliRun.Result r = CliRun.run("stop", "--dir", dir.toString(), "p1");

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(p1.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p1.process().exitValue()).isZero();
        } finally {
            p1.process().destroyForcibly();
        }
    }

    @Test
    void shouldCloseTheHostCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        Started p2 = startProcess(dir, "p2");
        try {
            assertThat(dir.resolve("zookeeper").resolve("connect")).exists();

            p2.process().destroy(); // SIGTERM, as Ctrl-C's SIGINT: the shutdown hook closes the host

            assertThat(p2.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            // a host killed outright would leave its connect file behind; close removes it
            assertThat(dir.resolve("zookeeper").resolve("connect")).doesNotExist();
        } finally {
            p2.process().destroyForcibly();
        }
    }

    @Test
    void aSpawnOnAnyHostPassesOverAHostThatWasJustKilled(@TempDir Path zkDir, @TempDir Path deadDir) throws Exception {
        try (HostDaemon h1 = HostDaemon.start(new HostDaemon.Config("h1", zkDir, null, null, 0, 0));
             CircuitRuntime client = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(h1.zookeeper()).build())) {
            // h1 runs a worker, so that the killed h2, with none, is the least loaded host
            var busy = client.spawn("h1", List.of(), () -> 1, SpawnOptions.defaults().daemonized());
            Started h2 = startProcess(deadDir, "h2", h1.zookeeper());
            try {
                h2.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9: its entry stays for its session
                assertThat(client.anchors().list("/host/h2").entries()).isNotEmpty();

                var s = client.spawn(io.jcircuit.Circuit.ANY_HOST, List.of("/passed-over"), () -> 6 * 7);

                assertThat(s.result()).isEqualTo(42);
                assertThat(client.anchors().list("/host/h1").entries()).extracting(e -> e.worker()).contains(s.worker().id());
                assertThatThrownBy(() -> client.spawn("h2", List.of(), () -> 1))
                    .isInstanceOf(io.jcircuit.WorkerDiedException.class).hasMessageContaining("cannot reach host h2");
            } finally {
                h2.process().destroyForcibly();
                busy.worker().kill();
            }
        }
    }

    @Test
    void shouldNotReportAPausedHostAsStopped(@TempDir Path zkState, @TempDir Path pausedDir) throws Exception {
        try (CircuitRuntime circuit = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(zkState).build())) {
            Started h2 = startProcess(pausedDir, "h2", circuit.embeddedZooKeeperConnectString().orElseThrow());
            try {
                signal(h2.process(), "STOP");

                CliRun.Result r = CliRun.run("stop", "--dir", zkState.toString(), "h2");

                signal(h2.process(), "CONT");
                assertThat(r.code()).as(r.out()).isNotZero();
                assertThat(r.out()).doesNotContain("stopped");
                assertThat(r.err()).contains("host h2").contains("does not answer").contains("pid " + h2.process().pid());
                assertThat(h2.process().isAlive()).isTrue();
            } finally {
                signal(h2.process(), "CONT");
                h2.process().destroyForcibly();
            }
        }
    }

    /**
     * A worker that prints a long run without a line break (64 MB, on a host of 48 MB) leaves its host
     * serving, and all it printed in its stdout file. Before, the host read the worker's stdout line by
     * line and held the unfinished line in its heap: its reader died of OutOfMemoryError, the worker
     * blocked in its print, and the rest of its output was lost.
     */
    @Test
    void aWorkerPrintingALotWithoutLineBreaksDoesNotTakeItsHostDown(@TempDir Path zkState, @TempDir Path dir) throws Exception {
        try (CircuitRuntime client = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(zkState).build())) {
            Started h = startProcess(dir, "big", client.embeddedZooKeeperConnectString().orElseThrow(), 48);
            try {
                int mb = 64;
                Spawned<String> s = io.jcircuit.Deadline.within(Duration.ofSeconds(60), () -> client.spawn("big", List.of(), () -> {
                    byte[] chunk = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
                    for (int i = 0; i < mb; i++) {
                        System.out.write(chunk);
                    }
                    System.out.println();
                    System.out.println("after the long line");
                    System.out.flush();
                    return "printed";
                }, SpawnOptions.defaults().daemonized()));
                Path out = dir.resolve("workers").resolve(s.worker().id().toString()).resolve("stdout");
                try {
                    assertThat(s.result()).isEqualTo("printed");
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(tail(out, 21)).as("the end of the worker's stdout file").isEqualTo("\nafter the long line\n"));
                    assertThat(Files.size(out)).as("bytes in the worker's stdout file").isGreaterThanOrEqualTo((mb << 20) + 21L);
                    assertThat(Files.readString(dir.resolve("start.stderr"))).as("the host's stderr").doesNotContain("OutOfMemoryError");
                } finally {
                    s.worker().kill();
                }
                assertThat(client.spawn("big", List.of(), () -> 42).result()).as("a spawn after it").isEqualTo(42);
            } finally {
                h.process().destroyForcibly();
            }
        }
    }

    private static String tail(Path file, int bytes) throws IOException {
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) Math.min(bytes, c.size()));
            c.read(b, c.size() - b.capacity());
            return new String(b.array(), 0, b.position(), StandardCharsets.ISO_8859_1);
        }
    }

    private static void signal(Process p, String signal) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
    }

    private record Started(Process process, String line) {
    }

    /** Runs {@code circuit start --embedded} in a new JVM and returns once it printed its start line. */
    private static Started startProcess(Path dir, String name) throws IOException {
        return startProcess(dir, name, null);
    }

    /**
     * Runs {@code circuit start} in a new JVM, joined to the ZooKeeper {@code zk} (with an embedded one
     * when null), and returns once it printed its start line.
     */
    private static Started startProcess(Path dir, String name, String zk) throws IOException {
        return startProcess(dir, name, zk, 128);
    }

    /** As {@link #startProcess(Path, String, String)}, in a JVM of {@code heapMb}. */
    private static Started startProcess(Path dir, String name, String zk, int heapMb) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx" + heapMb + "m"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(zk == null ? List.of("start", "--embedded") : List.of("start", "--zookeeper", zk));
        cmd.addAll(List.of("--dir", dir.toString(), "--name", name));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("start.stderr").toFile());
        pb.environment().remove("CIRCUIT_ZOOKEEPER");
        Process p = pb.start();
        CompletableFuture<String> line = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = in.readLine()) != null; ) {
                    if (l.startsWith("host " + name + " at ")) {
                        line.complete(l);
                    }
                }
            } catch (IOException e) {
                line.completeExceptionally(e);
            } finally {
                line.completeExceptionally(new IllegalStateException("circuit start exited without its start line; see "
                    + dir.resolve("start.stderr")));
            }
        });
        try {
            return new Started(p, line.get(60, TimeUnit.SECONDS));
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("circuit start " + name + " did not come up: " + e, e);
        }
    }
}
