package io.jcircuit.examples.hello;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class HelloTest {

    @Test
    void shouldRunTheReadmeExample() {
        String result = Hello.run();

        assertThat(result).matches("hello alice, from R[0-9a-f]{16} / 42");
    }

    @Test
    @Tag("slow")
    void shouldRunTheDemoAcrossTwoJvms() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();

        int exit = new Demo(new PrintStream(buf, true, StandardCharsets.UTF_8)).run();

        String out = buf.toString(StandardCharsets.UTF_8);
        assertThat(exit).isZero();
        assertThat(out).contains("tally in the driver").contains("go -> worker pid");
        assertThat(out).doesNotContain("go -> worker pid " + ProcessHandle.current().pid() + " ");
    }
}
