package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.Spawned;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A circuit with a cluster key: hosts, spawned workers and clients all on mutual TLS. */
@Tag("slow")
class SecureCircuitTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1).secured();

    /**
     * The refusals tested here come at once; a connect timeout this long only keeps a slow first handshake
     * of a cold JVM from failing with "deadline passed while dialing" instead (2 s was tight on a slow VM).
     */
    private static final int CONNECT_TIMEOUT_MS = 15_000;

    /** A resource that only a jar planted in the pack directory holds. */
    private static final String PLANTED = "planted-in-the-pack-directory.txt";

    @Test
    void shouldSpawnAndCallWorkersOverTls(Circuit client) {
        assertThat(circuit.keyFile()).isPresent();
        Spawned<WorkerId> s = client.spawn("host-1", List.of(), () -> Circuit.current().id());
        assertThat(s.result()).isEqualTo(s.worker().id());
        long pid = s.worker().go(() -> ProcessHandle.current().pid());
        assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
    }

    @Test
    void shouldRefuseAClientWithoutTheKey() {
        try (CircuitRuntime plain = CircuitRuntime.start(RuntimeConfig.builder().connectTimeoutMs(CONNECT_TIMEOUT_MS).build())) {
            var host = circuit.host("host-1");
            assertThatThrownBy(() -> plain.worker(host.address()).dial(HostService.SERVICE, HostService.class))
                .isInstanceOf(WorkerDiedException.class)
                .hasCauseInstanceOf(io.jcircuit.link.HandshakeFailedException.class)
                .hasMessageContaining("closed during the handshake")
                .hasMessageContaining("does the peer run with the same cluster key as this side (it has none)?");
        }
    }

    @Test
    void shouldTellAKeyedClientThatAPlainRuntimeRefusedItsHandshake() {
        try (CircuitRuntime plainServer = CircuitRuntime.start(RuntimeConfig.builder().build());
             CircuitRuntime keyed = CircuitRuntime.start(RuntimeConfig.builder().connectTimeoutMs(CONNECT_TIMEOUT_MS)
                 .clusterKey(io.jcircuit.link.tls.ClusterKey.generate()).build())) {
            plainServer.listen("x", Runnable.class, () -> { });
            assertThatThrownBy(() -> keyed.worker(plainServer.address()).dial("x", Runnable.class))
                .isInstanceOf(WorkerDiedException.class)
                .hasCauseInstanceOf(io.jcircuit.link.HandshakeFailedException.class)
                .hasMessageContaining("(it has one)?");
        }
    }

    @Test
    void shouldRefuseAClientWithAnotherClustersKey() {
        RuntimeConfig other = RuntimeConfig.builder().connectTimeoutMs(CONNECT_TIMEOUT_MS)
            .clusterKey(io.jcircuit.link.tls.ClusterKey.generate()).build();
        try (CircuitRuntime stranger = CircuitRuntime.start(other)) {
            var host = circuit.host("host-1");
            assertThatThrownBy(() -> stranger.worker(host.address()).dial(HostService.SERVICE, HostService.class))
                .isInstanceOf(WorkerDiedException.class)
                .hasCauseInstanceOf(io.jcircuit.link.HandshakeFailedException.class)
                .hasMessageContaining("the two sides run with different cluster keys");
        }
    }

    /**
     * A spawner ships the classes directory it packed and hashed itself, not a file that was already in
     * the pack directory under the same name: the pack's name is predictable (packing is deterministic),
     * and whatever is shipped runs on the hosts with the cluster key. Here the file has this test's
     * classes plus one resource of its own, as another local user planted it in the old shared
     * /tmp/jcircuit-jars.
     */
    @Test
    void shouldShipTheClassesTheSpawnerPackedNotAJarAlreadyInThePackDirectory(@TempDir Path scratch) throws Exception {
        Path classesDir = Path.of(SecureCircuitTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(classesDir).isDirectory(); // target/test-classes: a directory, which the spawner packs
        JarRef predicted = new ClasspathJars(scratch.resolve("packs")).of(classesDir.toString()).getFirst();
        Path packs = Files.createDirectories(ClasspathJars.defaultPackDir());
        plant(scratch.resolve("packs").resolve(predicted.sha256() + ".jar"), packs.resolve(predicted.sha256() + ".jar"));

        try (CircuitRuntime spawner = circuit.newClient()) { // a fresh runtime packs afresh
            Spawned<String> s = spawner.spawn("host-1", List.of(), SecureCircuitTest::readPlanted);
            assertThat(s.result()).as("a resource that only the jar planted in %s holds was on the worker's classpath", packs)
                .isNull();
        }
    }

    /** Runs in the worker: the planted resource, if the worker's classpath has it. */
    static String readPlanted() throws IOException {
        try (InputStream in = SecureCircuitTest.class.getClassLoader().getResourceAsStream(PLANTED)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Writes {@code to}: every entry of {@code from}, plus {@link #PLANTED}. */
    private static void plant(Path from, Path to) throws IOException {
        try (ZipFile src = new ZipFile(from.toFile());
             OutputStream out = Files.newOutputStream(to);
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Enumeration<? extends ZipEntry> e = src.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                zip.putNextEntry(new ZipEntry(entry.getName()));
                try (InputStream in = src.getInputStream(entry)) {
                    in.transferTo(zip);
                }
                zip.closeEntry();
            }
            zip.putNextEntry(new ZipEntry(PLANTED));
            zip.write("planted by someone who holds no cluster key".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
    }
}
