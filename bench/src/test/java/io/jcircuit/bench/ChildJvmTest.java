package io.jcircuit.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real child JVMs running {@link TestChild}. */
@Tag("slow")
class ChildJvmTest {

    @Test
    void shouldSkipNoiseAndReturnTheProtocolLine() {
        try (ChildJvm child = ChildJvm.start("test", false, TestChild.class, List.of("answer"))) {
            assertThat(child.awaitLine("BENCH-ANSWER ", 30_000)).isEqualTo("42");
        }
    }

    @Test
    void shouldReportTheExitCodeAndStderrTailOfAChildThatFails() {
        try (ChildJvm child = ChildJvm.start("test", false, TestChild.class, List.of("fail"))) {
            assertThatThrownBy(() -> child.awaitLine("BENCH-ANSWER ", 30_000))
                .isInstanceOf(BenchException.class)
                .hasMessageContaining("the bench test JVM exited before printing its BENCH-ANSWER line")
                .hasMessageContaining("exit code 7")
                .hasMessageContaining("boom: no answer today")
                .hasMessageContaining("stdout: not a protocol line");
        }
    }

    @Test
    void shouldDestroyAChildThatIgnoresItsStdinOnClose() {
        ChildJvm child = ChildJvm.start("test", false, TestChild.class, List.of("hang"));
        ProcessHandle handle;
        try (child) {
            child.awaitLine("BENCH-ANSWER ", 30_000);
            handle = child.handle();
        }
        assertThat(handle.isAlive()).isFalse();
    }
}
