package io.jcircuit.host;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A spawner in a JVM of its own, for {@link SideBySideTest}: joins the circuit at {@code args[0]},
 * spawns on host {@code args[1]} a function that reads the resource {@value #RESOURCE} from the
 * worker's classpath, and prints {@code RESULT <content>}.
 */
public final class SpawnerMain {

    static final String RESOURCE = "jcircuit-version.txt";

    private SpawnerMain() {
    }

    public static void main(String[] args) {
        try (CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(args[0]).build())) {
            String version = rt.spawn(args[1], List.of(), SpawnerMain::versionHere).result();
            System.out.println("RESULT " + version);
        }
        System.exit(0);
    }

    /** Runs in the worker: the version resource its classpath holds. */
    static String versionHere() {
        try (InputStream in = SpawnerMain.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            return in == null ? "none" : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
