package io.jcircuit.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code circuit console}'s checks before it serves anything. */
class ConsoleCommandTest {

    @Test
    void refusesToServeBeyondLoopbackWithoutInsecure() {
        CliRun.Result r = CliRun.run("console", "--bind", "0.0.0.0", "--port", "0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("circuit console: --bind 0.0.0.0 serves the console beyond this machine")
            .contains("Add --insecure");
    }

    @Test
    void tellsLoopbackFromOtherAddresses() {
        assertThat(ConsoleCommand.isLoopback("127.0.0.1")).isTrue();
        assertThat(ConsoleCommand.isLoopback("localhost")).isTrue();
        assertThat(ConsoleCommand.isLoopback("::1")).isTrue();
        assertThat(ConsoleCommand.isLoopback("0.0.0.0")).isFalse();
        assertThat(ConsoleCommand.isLoopback("10.1.2.3")).isFalse();
    }
}
