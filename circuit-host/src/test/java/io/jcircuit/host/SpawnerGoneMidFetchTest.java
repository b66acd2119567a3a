package io.jcircuit.host;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.SpawnSpec;
import io.jcircuit.runtime.host.SpawnedWorker;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A spawner that dies while a cold host fetches its jars: the host gives the fetch up, keeps no part of
 * the jar, starts no worker, and the next spawn that needs the jar fetches it whole.
 */
@Tag("slow")
@Timeout(180)
class SpawnerGoneMidFetchTest {

    /** A jar of a few chunks of random bytes, which no cache holds. */
    private static Path bigJar(Path dir) throws IOException {
        Path jar = dir.resolve("big.jar");
        byte[] noise = new byte[3 * io.jcircuit.runtime.host.JarSource.CHUNK];
        new java.util.Random().nextBytes(noise);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.putNextEntry(new JarEntry("noise.bin"));
            j.write(noise);
            j.closeEntry();
        }
        return jar;
    }

    @Test
    void aSpawnerKilledWhileTheHostFetchesItsJarLeavesNoPartNorWorker(@TempDir Path state, @TempDir Path jars) throws Exception {
        Path jar = bigJar(jars);
        try (HostDaemon host = HostDaemon.start(new HostDaemon.Config("cold", state, null, null, 0, 0))) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process spawner = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                StallingSpawnerMain.class.getName(), host.zookeeper(), "cold", jar.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(spawner.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null && !l.equals(StallingSpawnerMain.STALLED)) {
                    // its log lines
                }
                assertThat(l).as("the spawner's output").isEqualTo(StallingSpawnerMain.STALLED);
                assertThat(partsIn(state)).as("the host is fetching").isNotEmpty();
                spawner.destroyForcibly();
                spawner.waitFor();
                afterTheSpawnerWent(host, state, jar);
            } finally {
                spawner.destroyForcibly();
            }
        }
    }

    @Test
    void aSpawnerClosedWhileTheHostFetchesItsJarLeavesNoPartNorWorker(@TempDir Path state, @TempDir Path jars) throws Exception {
        Path jar = bigJar(jars);
        try (HostDaemon host = HostDaemon.start(new HostDaemon.Config("cold", state, null, null, 0, 0))) {
            CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
            CountDownLatch stalled = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            try {
                CompletableFuture<RuntimeException> spawn = CompletableFuture.supplyAsync(() ->
                    StallingSpawnerMain.spawnStalling(rt, "cold", jar, stalled::countDown, release), r -> Thread.ofVirtual().start(r));
                stalled.await();
                assertThat(partsIn(state)).as("the host is fetching").isNotEmpty();
                rt.close();
                assertThat(spawn.get(60, java.util.concurrent.TimeUnit.SECONDS)).as("the closed spawner's spawn")
                    .isInstanceOf(io.jcircuit.WorkerDiedException.class);
                afterTheSpawnerWent(host, state, jar);
            } finally {
                release.countDown();
            }
        }
    }

    /**
     * The host gave the fetch up (its part file is gone: no hang), kept nothing of the jar, started no worker;
     * a live spawner's spawn with the same jar then fetches it whole.
     */
    private static void afterTheSpawnerWent(HostDaemon host, Path state, Path jar) throws Exception {
        String sha = ClasspathJars.sha256(jar);
        await().atMost(Duration.ofSeconds(60)).until(() -> partsIn(state).isEmpty());
        assertThat(state.resolve("jars").resolve(sha + ".jar")).doesNotExist();
        try (CircuitRuntime live = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            HostService hs = live.anchors().worker(live.anchors().list("/host/cold").entries().stream()
                    .filter(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY))).findFirst().orElseThrow())
                .dial(HostService.SERVICE, HostService.class);
            assertThat(hs.workers()).as("the host started no worker for the spawner that went").isEmpty();
            ClasspathJars all = new ClasspathJars(ClasspathJars.defaultPackDir());
            List<JarRef> cp = all.of(jar + File.pathSeparator + System.getProperty("java.class.path"));
            SpawnedWorker w = hs.spawn(new SpawnSpec(live.id(), cp, live.ref(io.jcircuit.runtime.host.JarSource.class, all),
                List.of(), List.of(), 0, Map.of(), false, Map.of(), live.address(), null));
            assertThat(live.worker(w.address()).go(() -> 6 * 7)).isEqualTo(42);
            assertThat(ClasspathJars.sha256(state.resolve("jars").resolve(sha + ".jar"))).as("fetched whole").isEqualTo(sha);
            hs.kill(w.id());
        }
    }

    private static List<Path> partsIn(Path state) throws IOException {
        Path dir = state.resolve("jars");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".part")).toList();
        }
    }
}
