package io.jcircuit.anchor;

import io.jcircuit.WorkerId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class EmbeddedZooKeeperTest {

    @Test
    void servesOnLoopbackAndPublishesItsConnectString(@TempDir Path state) {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(state, 0)) {
            assertThat(zk.connectString()).startsWith("127.0.0.1:");
            assertThat(EmbeddedZooKeeper.connectStringIn(state)).contains(zk.connectString());
            assertThat(Files.isDirectory(state.resolve("zookeeper/data"))).isTrue();
            try (Namespace ns = Namespace.connect(NamespaceConfig.of(zk.connectString()))) {
                WorkerId me = WorkerId.random();
                NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(me, 1), e -> null);
                assertThat(anchors.list("/worker").entries()).hasSize(1);
                anchors.close();
            }
            assertThatThrownBy(() -> EmbeddedZooKeeper.start(state, 0))
                .isInstanceOf(NamespaceException.class)
                .hasMessageContaining("already runs the embedded ZooKeeper")
                .hasMessageContaining(zk.connectString());
        }
        assertThat(EmbeddedZooKeeper.connectStringIn(state)).as("connect file removed on close").isEmpty();
    }

    @Test
    void aStateDirectoryWhereNothingCanBeCreatedIsNamedWithTheReason(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "x");
        assertThatThrownBy(() -> EmbeddedZooKeeper.start(file, 0))
            .isInstanceOf(NamespaceException.class)
            .hasMessageContaining("cannot start the embedded ZooKeeper in " + file.resolve("zookeeper"))
            .hasMessageContaining("Not a directory");
        assertThat(EmbeddedZooKeeper.describe(new java.nio.file.NoSuchFileException("/proc/x/zookeeper")))
            .isEqualTo("/proc/x/zookeeper: no such file or directory");
        assertThat(EmbeddedZooKeeper.describe(new java.nio.file.AccessDeniedException("/root/zk")))
            .isEqualTo("/root/zk: permission denied");
    }

    /**
     * In a JVM of its own, since ZooKeeper's change happens once per JVM: an exception nobody
     * catches, thrown after the server started, is still reported on stderr.
     */
    @Test
    void uncaughtExceptionsOfTheProcessAreStillReported(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), Thrower.class.getName(), dir.resolve("state").toString())
            .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the child finished").isTrue();
        String printed = Files.readString(out);
        assertThat(p.exitValue()).as(printed).isZero();
        assertThat(printed).as("the child's output")
            .contains("Exception in thread \"thrower\"")
            .contains("IllegalStateException: nobody caught this");
    }

    /** Starts an embedded server under {@code args[0]}, then lets a thread die of an exception. */
    public static final class Thrower {
        public static void main(String[] args) throws InterruptedException {
            try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(Path.of(args[0]), 0)) {
                Thread t = new Thread(() -> {
                    throw new IllegalStateException("nobody caught this");
                }, "thrower");
                t.start();
                t.join();
            }
        }
    }

    @Test
    void keepsOnlyTheNewestSnapshotsOverRestarts(@TempDir Path state) throws Exception {
        Path data = state.resolve("zookeeper/data/version-2");
        for (int i = 0; i < EmbeddedZooKeeper.SNAPSHOTS_KEPT + 3; i++) { // each start writes a snapshot
            try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(state, 0);
                 Namespace ns = Namespace.connect(NamespaceConfig.of(zk.connectString()))) {
                new NamespaceDurable(ns, new JavaValueCodec()).putBytes("/round", new byte[] {(byte) i});
            }
        }
        // before: every snapshot and log stayed; the purge runs as the server starts, so the start that
        // follows the last round leaves the newest few
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(state, 0)) {
            await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() -> {
                try (var files = Files.list(data)) {
                    assertThat(files.filter(f -> f.getFileName().toString().startsWith("snapshot.")).count())
                        .isLessThanOrEqualTo(EmbeddedZooKeeper.SNAPSHOTS_KEPT + 1);
                }
            });
        } finally {
            System.setOut(stdout);
        }
        // ZooKeeper's own purge printed "Removing file: ..." to stdout for each file
        assertThat(printed.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("Removing");
        try (var files = Files.list(data)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("log.")).count())
                .as("the transaction logs that only removed snapshots needed are gone too").isLessThanOrEqualTo(EmbeddedZooKeeper.SNAPSHOTS_KEPT + 1);
        }
    }

    @Test
    void durableValuesSurviveARestartOfTheEmbeddedServer(@TempDir Path state) {
        String first;
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(state, 0);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.connectString()))) {
            new NamespaceDurable(ns, new JavaValueCodec()).putBytes("/kept", new byte[] {5});
            first = zk.connectString();
        }
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(state, 0);
             Namespace ns = Namespace.connect(NamespaceConfig.of(zk.connectString()))) {
            assertThat(zk.connectString()).as("started again where its clients look for it").isEqualTo(first);
            assertThat(new NamespaceDurable(ns, new JavaValueCodec()).getBytes("/kept"))
                .hasValueSatisfying(v -> assertThat(v).containsExactly(5));
        }
        // each start writes a configuration file; the earlier server's is gone, not piled up
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(state.resolve("zookeeper"))) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("zookeeper.configuration")))
                .hasSize(1);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void theLocatorTriesFlagThenEnvironmentThenTheEmbeddedFile(@TempDir Path state) {
        assertThat(new ZooKeeperLocator("zk1:2181", Map.of(ZooKeeperLocator.ENV, "zk2:2181"), state).find())
            .hasValueSatisfying(f -> assertThat(f.connectString()).isEqualTo("zk1:2181"));
        assertThat(new ZooKeeperLocator(null, Map.of(ZooKeeperLocator.ENV, "zk2:2181"), state).find())
            .hasValueSatisfying(f -> assertThat(f.source()).isEqualTo("$CIRCUIT_ZOOKEEPER"));
        ZooKeeperLocator none = new ZooKeeperLocator(null, Map.of(), state);
        assertThat(none.find()).isEmpty();
        assertThat(none.describe()).contains("--zookeeper (not given)", "$CIRCUIT_ZOOKEEPER (not set)",
            state.resolve("zookeeper/connect").toString());
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(state, 0)) {
            assertThat(none.find()).hasValueSatisfying(f -> {
                assertThat(f.connectString()).isEqualTo(zk.connectString());
                assertThat(f.source()).endsWith("connect");
            });
        }
    }
}
