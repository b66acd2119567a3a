package io.jcircuit.examples.hello;

import io.jcircuit.CircuitScope;
import io.jcircuit.Entry;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The spawn example, run as {@code circuit run} runs it: main with Circuit.current() bound. */
@Tag("slow")
class HelloSpawnTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    @Test
    void spawnsPrintsReturnsAValueAndAReferenceAndStaysDaemonized() throws Exception {
        CircuitRuntime client = circuit.newClient();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            ScopedValue.where(CircuitScope.CURRENT, client).run(() -> HelloSpawn.main(new String[] {"tester"}));
        } finally {
            System.setOut(saved);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).containsPattern("spawned worker R[0-9a-f]{16} \\(pid \\d+\\)")
            .containsPattern("hello tester, from R[0-9a-f]{16}");

        Entry e = client.anchors().list("/hello").entries().getFirst();
        Path stdout = circuit.stateDir().resolve("host-1").resolve("workers").resolve(e.worker().toString()).resolve("stdout");
        await().untilAsserted(() -> assertThat(Files.readString(stdout)).contains("hello from worker " + e.worker()));
        client.anchors().worker(e).kill();
    }
}
