package io.jcircuit.examples.hello;

import io.jcircuit.runtime.CircuitRuntime;

import java.io.IOException;

/**
 * The demo's second process: a bare runtime that prints its address and lives until its stdin
 * closes. Spawning workers onto hosts comes with the host daemon; until then the demo starts this
 * JVM itself.
 */
public final class DemoWorker {

    private DemoWorker() {
    }

    public static void main(String[] args) throws IOException {
        try (CircuitRuntime rt = CircuitRuntime.start()) {
            System.out.println("DEMO-WORKER " + rt.address());
            System.out.flush();
            while (System.in.read() >= 0) {
                // the driver holds our stdin; when it exits, so do we
            }
        }
    }
}
