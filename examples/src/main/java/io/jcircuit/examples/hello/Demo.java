package io.jcircuit.examples.hello;

import io.jcircuit.Address;
import io.jcircuit.Circuit;
import io.jcircuit.Worker;
import io.jcircuit.runtime.CircuitRuntime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code circuit demo}: a driver runtime and a worker runtime in a second JVM. The driver sends
 * word-counting functions to the worker with {@code go}; each function reports back through a
 * reference to the driver's {@link Tally}, so calls flow both ways over the one link.
 */
public final class Demo {

    private static final List<String> TEXTS = List.of(
        "one program describes a whole distributed system",
        "spawn a function onto a worker and call its objects like local ones",
        "values travel by copy and references by reference",
        "the circuit keeps the go circuit's concepts and finishes what it never did");

    private final PrintStream out;

    public Demo(PrintStream out) {
        this.out = out;
    }

    /** Runs the demo; returns a process exit code. */
    public int run() throws IOException, InterruptedException {
        Process child = startWorkerJvm();
        try (CircuitRuntime driver = CircuitRuntime.start()) {
            Address at = readAddress(child);
            Worker worker = driver.worker(at);
            out.printf("driver  %s  pid %d%n", driver.id(), ProcessHandle.current().pid());
            out.printf("worker  %s  pid %d  at %s%n", worker.id(), child.pid(), at);

            TallyImpl totals = new TallyImpl();
            Tally tally = driver.ref(Tally.class, totals);
            for (String text : TEXTS) {
                long pid = worker.go(() -> {
                    long words = text.split("\\s+").length;
                    tally.add(Circuit.current().id().toString(), words); // a call back to the driver
                    return ProcessHandle.current().pid();
                });
                out.printf("  go -> worker pid %d counted: \"%s\"%n", pid, text);
            }
            out.printf("tally in the driver: %s%n", totals.byWorker);
            out.println(Hello.run());
            return totals.byWorker.get(worker.id().toString()).sum() > 0 ? 0 : 1;
        } finally {
            child.destroy();
            if (!child.waitFor(5, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    private static Process startWorkerJvm() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-Xmx128m", "-cp", System.getProperty("java.class.path"), DemoWorker.class.getName())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    }

    private static Address readAddress(Process child) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            if (line.startsWith("DEMO-WORKER ")) {
                return Address.parse(line.substring("DEMO-WORKER ".length()).trim());
            }
        }
        throw new IOException("the demo worker JVM exited before announcing its address (exit code "
            + child.exitValue() + "); see its stderr above");
    }

    private static final class TallyImpl implements Tally {
        final ConcurrentHashMap<String, LongAdder> byWorker = new ConcurrentHashMap<>();

        @Override
        public void add(String worker, long words) {
            byWorker.computeIfAbsent(worker, k -> new LongAdder()).add(words);
        }
    }
}
