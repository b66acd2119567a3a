package io.jcircuit.test;

import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The processes of one started {@link LocalCircuit}: its host daemons (the first one runs the
 * embedded ZooKeeper), the client runtimes handed out, and the state directory they share.
 *
 * <p>Lifecycle: {@link #start} returns everything running or throws with whatever it started closed;
 * {@link #close} stops clients first, then the hosts in reverse order, so that ZooKeeper goes last.
 */
final class RunningCircuit implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunningCircuit.class);

    private final Path stateDir;
    private final boolean keepStateDir;
    private Path keyFile;
    private final SequencedMap<String, HostDaemon> hosts = new LinkedHashMap<>();
    private final List<CircuitRuntime> clients = new CopyOnWriteArrayList<>();

    private RunningCircuit(Path stateDir, boolean keepStateDir) {
        this.stateDir = stateDir;
        this.keepStateDir = keepStateDir;
    }

    /** Creates a temporary state directory and starts one host daemon per name in it, in order. */
    static RunningCircuit start(List<String> hostNames, boolean keepStateDir, boolean secured) {
        Path dir;
        try {
            dir = Files.createTempDirectory("jcircuit-test-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a state directory for the local circuit", e);
        }
        RunningCircuit c = new RunningCircuit(dir, keepStateDir);
        try {
            if (secured) {
                c.keyFile = dir.resolve(io.jcircuit.link.tls.ClusterKey.FILE_NAME);
                io.jcircuit.link.tls.ClusterKey.generate().writeTo(c.keyFile);
            }
            for (String name : hostNames) {
                c.startHost(name);
            }
        } catch (RuntimeException e) {
            try {
                c.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        LOG.info("local circuit started: hosts {}, ZooKeeper {}, state in {}", hostNames, c.zookeeper(), dir);
        return c;
    }

    private void startHost(String name) {
        String zk = hosts.isEmpty() ? null : zookeeper(); // the first host runs the embedded ZooKeeper
        try {
            hosts.put(name, HostDaemon.start(new HostDaemon.Config(name, stateDir.resolve(name), zk, null, 0)
                .withKey(keyFile, false)));
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot start host '" + name + "' of the local circuit in "
                + stateDir + ": " + e.getMessage(), e);
        }
    }

    String zookeeper() {
        return hosts.firstEntry().getValue().zookeeper();
    }

    java.util.Optional<Path> keyFile() {
        return java.util.Optional.ofNullable(keyFile);
    }

    Path stateDir() {
        return stateDir;
    }

    /** The running host daemon {@code name}, or null. */
    HostDaemon host(String name) {
        return hosts.get(name);
    }

    /** Starts a client runtime on loopback that joins this circuit; {@link #close} closes it. */
    CircuitRuntime newClient() {
        CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zookeeper()).clusterKeyFile(keyFile).build());
        clients.add(rt);
        return rt;
    }

    /** Closes one client early; its spawned workers exit with it. */
    void closeClient(CircuitRuntime client) {
        clients.remove(client);
        client.close();
    }

    /** Stops clients, then hosts (the last started first), then deletes the state directory unless kept. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (CircuitRuntime rt : List.copyOf(clients)) {
            failure = closeQuietly(rt, failure);
        }
        clients.clear();
        for (HostDaemon h : hosts.sequencedValues().reversed()) {
            // the whole circuit ends: daemonized workers too, or they would outlive the test run
            failure = closeQuietly(() -> h.close(true), failure);
        }
        if (!keepStateDir) {
            deleteTree(stateDir);
        } else {
            LOG.info("local circuit stopped; its state stays in {}", stateDir);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException closeQuietly(AutoCloseable c, RuntimeException failure) {
        try {
            c.close();
            return failure;
        } catch (Exception e) {
            RuntimeException r = e instanceof RuntimeException re ? re
                : new IllegalStateException("cannot close " + c + ": " + e.getMessage(), e);
            if (failure == null) {
                return r;
            }
            failure.addSuppressed(r);
            return failure;
        }
    }

    /** Deletes {@code root} and everything below it; what cannot be deleted is logged and left. */
    private static void deleteTree(Path root) {
        if (!io.jcircuit.host.Dirs.deleteTree(root)) {
            LOG.warn("could not delete all of the local circuit's state in {}", root);
        }
    }
}
