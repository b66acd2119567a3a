package io.jcircuit.cli;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a worker or the namespace says reaches the operator's terminal escaped: a line break, an ESC, a
 * right-to-left override can neither forge a line of a table nor drive the terminal. Against a real
 * runtime, joined to an embedded ZooKeeper, that names its service and files its entry as a hostile worker would.
 */
class ControlCharactersTest {

    /** What the hostile runtime serves; its name is the attack. */
    public interface Quiet {
        void nothing();
    }

    @Test
    void peekAndLsEscapeWhatAWorkerSays(@TempDir Path state) {
        try (CircuitRuntime zk = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(state).build());
             CircuitRuntime evil = CircuitRuntime.start(RuntimeConfig.builder()
                 .zookeeper(zk.embeddedZooKeeperConnectString().orElseThrow()).build())) {
            // a second "peers" row, and a terminal command that sets the window title
            evil.listen("svc\n  peers     R0000000000000001\u001b]0;pwned\u0007", Quiet.class, () -> { });
            evil.anchors().file("/evil", Map.of("code", "v1\u001b[2J\rforged\u202e"));

            CliRun.Result peek = CliRun.run(Map.of(), "peek", "--dir", state.toString(), "/worker/" + evil.id());
            assertThat(peek.code()).as(peek.err()).isZero();
            // before: the name came out raw, ESC and BEL and all, and its second line read as the worker's peers
            assertThat(peek.out()).doesNotContain("\u001b").doesNotContain("\u0007")
                .contains("svc\\n  peers     R0000000000000001\\u001b]0;pwned\\u0007");
            assertThat(peek.out().lines().filter(l -> l.startsWith("  peers"))).singleElement()
                .asString().doesNotContain("R0000000000000001");

            CliRun.Result ls = CliRun.run(Map.of(), "ls", "-l", "--dir", state.toString(), "/evil");
            assertThat(ls.code()).as(ls.err()).isZero();
            // before: the screen cleared, and the line began again at "forged"
            assertThat(ls.out().lines()).singleElement().asString()
                .startsWith("/evil/" + evil.id()).endsWith("v1\\u001b[2J\\rforged\\u202e");

            evil.settings().define("app.motd", String.class, "hi\n" + evil.id() + " log.root=OFF", v -> null);
            CliRun.Result get = CliRun.run(Map.of(), "get", "--dir", state.toString(), "/worker/" + evil.id(), "app.motd");
            assertThat(get.code()).as(get.err()).isZero();
            assertThat(get.out().lines()).singleElement().asString()
                .isEqualTo(evil.id() + " app.motd=hi\\n" + evil.id() + " log.root=OFF");

            // --json escapes in JSON's way, and a script gets the worker's string back as it was
            assertThat(CliRun.run(Map.of(), "ls", "--json", "--dir", state.toString(), "/evil").out())
                .contains("\"code\":\"v1\\u001b[2J\\rforged\u202e\"");
        }
    }

    @Test
    void aFailureAWorkerSentIsOneLine() {
        // every verb reports a worker's failure on stderr through this, and top and flow in their tables
        assertThat(WorkerOps.why(new IllegalStateException("no\nR0000000000000001: fine\u001b[8m")))
            .isEqualTo("no\\nR0000000000000001: fine\\u001b[8m");
        assertThat(WorkerOps.why(new IllegalStateException())).isEqualTo("IllegalStateException");
    }
}
