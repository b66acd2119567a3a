package io.jcircuit.runtime;

import java.io.IOException;

/**
 * The far side of {@link TwoProcessTest}: a runtime in its own JVM that publishes the test services,
 * prints its address, and lives until its stdin closes. With arguments {@code ZOOKEEPER DIR}, it joins
 * that ZooKeeper's namespace and files itself under {@code DIR}.
 */
public final class WorkerMain {

    private WorkerMain() {
    }

    public static void main(String[] args) throws IOException {
        RuntimeConfig.Builder config = RuntimeConfig.builder();
        if (args.length == 2) {
            config.zookeeper(args[0]);
        }
        try (CircuitRuntime rt = CircuitRuntime.start(config.build())) {
            if (args.length == 2) {
                rt.anchors().file(args[1]);
            }
            rt.listen("echo", Fixtures.Echo.class, new Fixtures.EchoImpl());
            rt.listen("counter", Fixtures.Counter.class, new Fixtures.CounterImpl());
            System.out.println("WORKER " + rt.id() + " " + rt.address());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to go away
            }
        }
    }
}
