package io.jcircuit.runtime.host;

import io.jcircuit.Entry;
import io.jcircuit.Membership;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.NamespaceAnchors;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The main class of a spawned worker JVM. Its one argument is the spawn metadata file that the host
 * wrote into the worker's directory ({@link #META_FILE}). It starts a runtime on the circuit's
 * ZooKeeper, files it under {@code /host/<host>} and the requested anchors, prints
 * {@code WORKER <id> <address>} for the host, and then serves. A worker that is not daemonized exits
 * when its spawner's runtime leaves {@code /worker}.
 */
public final class WorkerMain {

    public static final String META_FILE = "spawn.properties";
    public static final String ANNOUNCE = "WORKER ";

    private WorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: WorkerMain <worker dir>/" + META_FILE);
            System.exit(2);
        }
        Properties meta = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]), StandardCharsets.UTF_8)) {
            meta.load(r);
        }
        String host = meta.getProperty("host");
        WorkerId spawner = WorkerId.parse(meta.getProperty("spawner"));
        boolean daemon = Boolean.parseBoolean(meta.getProperty("daemonize", "false"));
        CountDownLatch exit = new CountDownLatch(1);
        RuntimeConfig.Builder config = RuntimeConfig.builder().zookeeper(meta.getProperty("zookeeper"));
        if (meta.getProperty("id") != null) {
            config.workerId(WorkerId.parse(meta.getProperty("id")));
        }
        try (CircuitRuntime rt = CircuitRuntime.start(config.build())) {
            ((NamespaceAnchors) rt.anchors()).fileUnderHost(host,
                Map.of(HostService.ROLE_KEY, HostService.ROLE_WORKER, "spawner", spawner.toString(),
                    "daemon", Boolean.toString(daemon)));
            for (String a : meta.getProperty("anchors", "").split(",")) {
                if (!a.isBlank()) {
                    rt.anchors().file(a.strip());
                }
            }
            if (!daemon) {
                exitWhenGone(rt, spawner, exit);
            }
            System.out.println(ANNOUNCE + rt.id() + " " + rt.address());
            System.out.flush();
            exit.await();
            System.err.println("worker " + rt.id() + ": spawner " + spawner + " is gone; exiting");
        }
        System.exit(0);
    }

    /** Counts {@code exit} down when {@code spawner} is no longer filed under {@code /worker}. */
    private static void exitWhenGone(CircuitRuntime rt, WorkerId spawner, CountDownLatch exit) throws IOException {
        boolean present = rt.anchors().list("/worker").entries().stream().anyMatch(e -> e.worker().equals(spawner));
        if (!present) {
            exit.countDown();
            return;
        }
        rt.anchors().subscribe("/worker", new Membership() {
            @Override
            public void joined(Entry e) {
            }

            @Override
            public void left(Entry e) {
                if (e.worker().equals(spawner)) {
                    exit.countDown();
                }
            }
        });
    }
}
