package io.jcircuit.test;

import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A host daemon in a process of its own under {@code taskset -c 0}: the workers it starts share its one
 * CPU, and get the options of {@code io.jcircuit.host.CpuOptions} for one CPU. Skipped where
 * {@code taskset} is missing.
 */
class OneCpuHostTest {

    /** What a worker reports about its JVM. */
    record JvmFacts(int cpus, List<String> inputArguments) {
    }

    @Test
    void aHostOnOneCpuStartsItsWorkersWithSpinWaitsWithoutThePauseInstruction() throws Exception {
        Assumptions.assumeTrue(MultiHostNetnsTest.run("taskset", "-c", "0", "true") == null,
            "taskset (util-linux) is not available");
        Assumptions.assumeTrue(Runtime.version().feature() == 25,
            "the options are given on Java 25 only");
        Path dir = Files.createTempDirectory("jcircuit-1cpu-");
        Process host = null;
        try (TestingServer zk = new TestingServer(true)) {
            Path key = dir.resolve(ClusterKey.FILE_NAME);
            ClusterKey.generate().writeTo(key);
            List<String> cmd = new ArrayList<>(List.of("taskset", "-c", "0",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), NetnsHostMain.class.getName(),
                "one-cpu", dir.resolve("one-cpu").toString(), zk.getConnectString(), "127.0.0.1", key.toString()));
            host = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
            String ready = CompletableFuture.supplyAsync(() -> {
                try {
                    String line;
                    while ((line = out.readLine()) != null && !line.startsWith("HOST READY")) {
                        // skip anything the host prints first
                    }
                    return line;
                } catch (IOException e) {
                    return null;
                }
            }).get(60, TimeUnit.SECONDS);
            assertThat(ready).as("the host on one CPU started").startsWith("HOST READY");

            try (CircuitRuntime client = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.getConnectString())
                .bindHost("127.0.0.1").clusterKeyFile(key).defaultCallTimeoutMs(60_000).build())) {
                JvmFacts facts = client.spawn("one-cpu", List.of(), () -> new JvmFacts(
                    Runtime.getRuntime().availableProcessors(),
                    ManagementFactory.getRuntimeMXBean().getInputArguments())).result();

                assertThat(facts.cpus()).isEqualTo(1);
                assertThat(facts.inputArguments())
                    .contains("-XX:+UnlockDiagnosticVMOptions", "-XX:DisableIntrinsic=_onSpinWait");
            }
        } finally {
            if (host != null) {
                host.getOutputStream().close();
                if (!host.waitFor(20, TimeUnit.SECONDS)) {
                    host.destroyForcibly();
                }
            }
            io.jcircuit.host.Dirs.deleteTree(dir);
        }
    }
}
