package io.jcircuit.cli;

import io.jcircuit.Anchors;
import io.jcircuit.Deadline;
import io.jcircuit.Entry;
import io.jcircuit.Listing;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceException;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.HostService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code circuit stop NAME}: asks a host daemon to stop, through its {@link HostService}, and blocks
 * until its entry has left the namespace, for at most {@link #WAIT}.
 */
@Command(name = "stop", mixinStandardHelpOptions = true,
    description = {"Stop the host daemon NAME, and wait (at most 30 s) until it has left the namespace.",
        "Its workers that were not daemonized are killed with it. Daemonized workers keep running, "
            + "filed under /host/NAME, until they exit.",
        "'circuit hosts' lists the names."})
final class StopCommand implements Callable<Integer> {

    /** How long {@code stop} waits for the host's entry to go. */
    static final Duration WAIT = Duration.ofSeconds(30);

    @Parameters(index = "0", paramLabel = "NAME", description = "The host to stop.")
    String name;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys = new KeyOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        try (Namespace ns = where.connect()) {
            String connect = ns.config().connectString();
            List<Hosts.Host> hosts = Hosts.list(ns);
            Hosts.Host host = hosts.stream().filter(h -> h.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no host named '" + name + "' in the circuit at "
                    + connect + "; running hosts: " + Hosts.names(hosts)));
            Entry e = host.entry();
            List<Entry> left;
            String note = "";
            java.nio.file.Path state = NamespaceOptions.stateDir(where.dir, where.env);
            RuntimeConfig config = RuntimeConfig.builder().zookeeper(connect)
                .clusterKeyFile(keys.resolve(where.env, state)).build();
            try (CircuitRuntime client = CircuitRuntime.start(config)) {
                requestStop(client, host);
                try {
                    left = awaitGone(client.anchors(), host);
                } catch (NamespaceException zkGone) {
                    // A host that ran the circuit's embedded ZooKeeper takes it along when it stops; then
                    // the host's silence at its address, not its entry, says that it stopped.
                    if (answers(client, host)) {
                        throw zkGone;
                    }
                    left = List.of();
                    note = "; the ZooKeeper at " + connect + " went away with it (it ran the embedded one)";
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("stopped host " + name + " (" + e.worker() + " at " + e.address() + ")" + note);
            if (!left.isEmpty()) {
                out.println(left.size() + " daemonized worker(s) keep running under " + host.dir() + ": "
                    + String.join(", ", left.stream().map(w -> w.worker().toString()).toList()));
                if (e.metadata().containsKey(io.jcircuit.host.HostDaemon.RUNS_ZOOKEEPER_KEY)) {
                    out.println("host " + name + " ran the circuit's ZooKeeper, so they are out of the namespace until"
                        + " it starts again with the same state directory; then they file themselves again");
                }
            }
            out.flush();
            return 0;
        }
    }

    private static void requestStop(CircuitRuntime client, Hosts.Host host) {
        try {
            client.anchors().worker(host.entry()).dial(HostService.SERVICE, HostService.class).stop();
        } catch (WorkerDiedException gone) {
            if (io.jcircuit.link.HandshakeFailedException.caused(gone)) {
                // it is there but would not link with us (a cluster-key mismatch): it was never asked
                throw new IllegalStateException("cannot ask host " + host.name() + " to stop: " + gone.getCause().getMessage(), gone);
            }
            // already stopping or dead: its entry goes with its session, which awaitGone sees
        }
    }

    /** False when the host's runtime no longer answers at its address; true when it does, or cannot tell. */
    private static boolean answers(CircuitRuntime client, Hosts.Host host) {
        try {
            Deadline.within(Duration.ofSeconds(5), () ->
                client.anchors().worker(host.entry()).tryDial(HostService.SERVICE, HostService.class));
            return true;
        } catch (WorkerDiedException gone) {
            return false;
        } catch (RuntimeException cannotTell) {
            return true;
        }
    }

    /**
     * Waits until the host's own entry has left its directory, watching the directory rather than
     * sleeping, and returns the daemonized workers filed there, which keep running.
     *
     * @throws IllegalStateException when the entry is still there after {@link #WAIT}
     */
    private List<Entry> awaitGone(Anchors anchors, Hosts.Host host) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Listing<Entry> l = anchors.list(host.dir());
        while (l.entries().stream().anyMatch(x -> x.worker().equals(host.entry().worker()))) {
            long leftNs = deadline - System.nanoTime();
            if (leftNs <= 0) {
                Entry e = host.entry();
                throw new IllegalStateException("host " + name + " (" + e.worker() + " at " + e.address()
                    + ") was asked to stop but is still filed under " + host.dir() + " after " + WAIT.toSeconds()
                    + " s; check with 'circuit hosts', or end its process (pid " + e.pid() + " on " + e.host() + ")");
            }
            l = anchors.awaitChange(host.dir(), l.revision(), Duration.ofNanos(leftNs));
        }
        // Killed workers' entries may linger until their sessions expire; only daemonized ones stay on.
        return l.entries().stream().filter(x -> HostService.ROLE_WORKER.equals(x.metadata().get(HostService.ROLE_KEY))
            && Boolean.parseBoolean(x.metadata().get("daemon"))).toList();
    }
}
