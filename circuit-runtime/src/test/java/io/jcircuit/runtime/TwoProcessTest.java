package io.jcircuit.runtime;

import java.util.ArrayList;
import java.util.List;
import io.jcircuit.Address;
import io.jcircuit.Circuit;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The same programming model across two real JVM processes. */
@Tag("slow")
class TwoProcessTest {

    private static Process worker;
    private static WorkerId workerId;
    private static Address workerAddress;
    private static CircuitRuntime local;

    /** A started worker JVM and the line it announced itself with: {@code WORKER <id> <address>}. */
    record Started(Process process, WorkerId id, Address address) {
    }

    /** Starts {@link WorkerMain} in a new JVM with {@code args} and waits for its announcement. */
    static Started launchWorkerJvm(String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Xmx128m",
            "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("WORKER ")) {
            // skip anything else the worker prints
        }
        assertThat(line).as("worker JVM announced itself").isNotNull();
        String[] parts = line.split(" ");
        return new Started(p, WorkerId.parse(parts[1]), Address.parse(parts[2]));
    }

    @BeforeAll
    static void startWorkerJvm() throws Exception {
        Started w = launchWorkerJvm();
        worker = w.process();
        workerId = w.id();
        workerAddress = w.address();
        local = CircuitRuntime.start();
    }

    @AfterAll
    static void stop() {
        if (local != null) {
            local.close();
        }
        if (worker != null) {
            worker.destroyForcibly();
        }
    }

    @Test
    void shouldCallAServiceInAnotherJvm() {
        Echo echo = local.dial(workerAddress, "echo", Echo.class);

        assertThat(echo.echo("across")).isEqualTo("across");
        assertThat(echo.whereAmI()).isEqualTo(workerId.toString());
        assertThatThrownBy(() -> echo.fail("far")).isExactlyInstanceOf(IllegalStateException.class).hasMessage("far");
    }

    @Test
    void shouldCallBackIntoThisJvmThroughAReference() {
        Echo echo = local.dial(workerAddress, "echo", Echo.class);
        CounterImpl mine = new CounterImpl();

        assertThat(echo.callCounter(local.ref(Counter.class, mine), 11)).isEqualTo(11);
        assertThat(mine.get()).isEqualTo(11);
    }

    @Test
    void shouldRunGoInAnotherJvm() {
        Worker w = local.worker(workerAddress);

        long pid = w.go(() -> ProcessHandle.current().pid());
        String id = w.go(() -> Circuit.current().id().toString());

        assertThat(pid).isEqualTo(worker.pid()).isNotEqualTo(ProcessHandle.current().pid());
        assertThat(id).isEqualTo(workerId.toString());
    }

    @Test
    void shouldFailWithWorkerDiedOnceTheProcessIsKilled() throws Exception {
        CircuitRuntime other = CircuitRuntime.start();
        try {
            Started started = launchWorkerJvm();
            Process victim = started.process();
            Counter counter = other.dial(started.address(), "counter", Counter.class);
            assertThat(counter.add(1)).isEqualTo(1);

            victim.destroyForcibly();
            assertThat(victim.waitFor(10, TimeUnit.SECONDS)).isTrue();

            assertThatThrownBy(() -> counter.add(1)).isInstanceOf(WorkerDiedException.class);
        } finally {
            other.close();
        }
    }
}
