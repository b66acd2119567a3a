package io.jcircuit.test;

import io.jcircuit.host.HostDaemon;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A host daemon in a process of its own, for {@link MultiHostNetnsTest} to start inside a network
 * namespace and {@link OneCpuHostTest} on one CPU: {@code NAME STATE_DIR ZOOKEEPER BIND_HOST KEY_FILE}.
 * Prints {@code HOST READY} once filed, and runs until its stdin closes.
 */
public final class NetnsHostMain {

    private NetnsHostMain() {
    }

    /**
     * Starts this class in a new JVM, behind {@code launcher} (for example {@code ip netns exec NS} or
     * {@code taskset -c 0}), and waits until its host is filed with an address on {@code bindHost}.
     */
    static Process start(List<String> launcher, String name, Path stateDir, String zookeeper, String bindHost,
                         Path key) throws Exception {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-cp", System.getProperty("java.class.path"), NetnsHostMain.class.getName(),
            name, stateDir.toString(), zookeeper, bindHost, key.toString()));
        Process host = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
        String ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null && !line.startsWith("HOST READY")) {
                    // skip anything the host prints first
                }
                return line;
            } catch (IOException e) {
                return null;
            }
        }).get(60, TimeUnit.SECONDS);
        assertThat(ready).as("host %s started behind %s", name, launcher).startsWith("HOST READY " + bindHost);
        return host;
    }

    /** Ends a host {@link #start}ed: closes its stdin, then kills it if it has not exited in 20 s. */
    static void stop(Process host) throws IOException, InterruptedException {
        host.getOutputStream().close();
        if (!host.waitFor(20, TimeUnit.SECONDS)) {
            host.destroyForcibly();
        }
    }

    public static void main(String[] args) throws Exception {
        HostDaemon host = HostDaemon.start(new HostDaemon.Config(args[0], Path.of(args[1]), args[2], args[3], 0, 0)
            .withKey(Path.of(args[4]), false));
        System.out.println("HOST READY " + host.address());
        System.out.flush();
        while (System.in.read() >= 0) {
            // runs until the test closes our stdin
        }
        host.close(true);
        System.exit(0);
    }
}
