package io.jcircuit.test;

import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
            host = NetnsHostMain.start(List.of("taskset", "-c", "0"), "one-cpu", dir.resolve("one-cpu"),
                zk.getConnectString(), "127.0.0.1", key);

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
                NetnsHostMain.stop(host);
            }
            io.jcircuit.host.Dirs.deleteTree(dir);
        }
    }
}
