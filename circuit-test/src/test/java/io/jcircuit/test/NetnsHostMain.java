package io.jcircuit.test;

import io.jcircuit.host.HostDaemon;

import java.nio.file.Path;

/**
 * A host daemon in a process of its own, for {@link MultiHostNetnsTest} to start inside a network
 * namespace: {@code NAME STATE_DIR ZOOKEEPER BIND_HOST KEY_FILE}. Prints {@code HOST READY} once
 * filed, and runs until its stdin closes.
 */
public final class NetnsHostMain {

    private NetnsHostMain() {
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
