package io.jcircuit.cli;

import io.jcircuit.host.HostDaemon;
import io.jcircuit.link.tls.ClusterKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The cluster key on the command line: keygen, then start and stop finding and using it. */
class SecureHostCommandsTest {

    private static StartCommand.Plan planOf(Map<String, String> env, String... args) {
        return HostCommandsTest.planOf(env, args);
    }

    @Test
    void shouldStartAndStopAHostOverTlsWithTheKeyFoundInTheStateDirectory(@TempDir Path state) {
        Path key = state.resolve(ClusterKey.FILE_NAME);
        CliRun.Result gen = CliRun.run("keygen", "-o", key.toString());
        assertThat(gen.code()).as(gen.err()).isZero();

        StartCommand.Plan plan = planOf(Map.of(), "--name", "sealed", "--dir", state.toString());
        assertThat(plan.config().keyFile()).isEqualTo(key.toAbsolutePath());
        assertThat(plan.config().insecure()).isFalse();
        HostDaemon host = HostDaemon.start(plan.config());
        try {
            CliRun.Result stop = CliRun.run("stop", "sealed", "--dir", state.toString());
            assertThat(stop.code()).as(stop.err()).isZero();
            assertThat(stop.out()).contains("stopped host sealed");
        } finally {
            host.close();
        }
    }

    @Test
    void shouldRefuseAHostWhoseKeyIsNotTheCircuits(@TempDir Path state, @TempDir Path other, @TempDir Path third) {
        Path key = state.resolve(ClusterKey.FILE_NAME);
        Path wrong = other.resolve("wrong.key");
        assertThat(CliRun.run("keygen", "-o", key.toString()).code()).isZero();
        assertThat(CliRun.run("keygen", "-o", wrong.toString()).code()).isZero();
        HostDaemon first = HostDaemon.start(planOf(Map.of(), "--name", "keyed", "--dir", state.toString()).config());
        try {
            // before, it joined quietly, and every spawn on any host that picked it failed the handshake
            HostDaemon.Config mismatched = planOf(Map.of(), "--name", "wrong", "--dir", other.toString(),
                "--key", wrong.toString(), "--zookeeper", first.zookeeper()).config();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostDaemon.start(mismatched).close())
                .hasMessageContaining("host keyed of this circuit runs with cluster key")
                .hasMessageContaining("every runtime of a circuit needs the same key");
            HostDaemon.Config keyless = planOf(Map.of(), "--name", "bare", "--dir", third.toString(),
                "--zookeeper", first.zookeeper()).config();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostDaemon.start(keyless).close())
                .hasMessageContaining("and this host without one");
            CliRun.Result hosts = CliRun.run("hosts", "--dir", state.toString(), "--json");
            assertThat(hosts.out()).contains("keyed").doesNotContain("\"wrong\"").doesNotContain("\"bare\"");
        } finally {
            first.close();
        }
    }

    @Test
    void shouldPreferAnExplicitKeyAndTheEnvironmentOverTheStateDirectory(@TempDir Path state, @TempDir Path elsewhere) {
        Path named = elsewhere.resolve("named.key");
        Path env = elsewhere.resolve("env.key");
        assertThat(planOf(Map.of(), "--dir", state.toString()).config().keyFile()).as("no key anywhere").isNull();
        assertThat(planOf(Map.of(KeygenCommand.ENV_KEY, env.toString()), "--dir", state.toString()).config().keyFile())
            .isEqualTo(env.toAbsolutePath());
        assertThat(planOf(Map.of(KeygenCommand.ENV_KEY, env.toString()), "--key", named.toString(), "--dir", state.toString())
            .config().keyFile()).isEqualTo(named.toAbsolutePath());
    }

    @Test
    void shouldRefuseToListenBeyondLoopbackWithoutAKey(@TempDir Path state) {
        CliRun.Result r = CliRun.run("start", "--name", "open", "--addr", "10.1.2.3:0", "--dir", state.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("10.1.2.3 is not a loopback address").contains("--insecure").contains("circuit keygen");
    }

    @Test
    void shouldNameAMissingKeyFile(@TempDir Path state) {
        Path missing = state.resolve("no-such.key");
        CliRun.Result r = CliRun.run("start", "--name", "h", "--key", missing.toString(), "--dir", state.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains(missing.toString());
    }
}
