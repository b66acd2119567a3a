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
 * until its entry has left the namespace, for at most {@link #WAIT}. It says a host stopped only when
 * the host took the request, or nothing listens at its address any more: an entry leaving can be
 * no more than the host's ZooKeeper session expiring while its process is paused.
 */
@Command(name = "stop", mixinStandardHelpOptions = true,
    description = {"Stop the host daemon NAME, and wait (at most 30 s) until it has left the namespace.",
        "Its workers that were not daemonized are killed with it. Daemonized workers keep running, "
            + "filed under /host/NAME, until they exit.",
        "A host that does not answer (paused, say) is not stopped: stop fails and says so.",
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
            Took took;
            try (CircuitRuntime client = CircuitRuntime.start(config)) {
                took = requestStop(client, host);
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
                if (took == Took.LINK_LOST && answers(client, host)) {
                    throw new IllegalStateException("host " + name + " (" + e.worker() + " at " + e.address() + ") was sent the"
                        + " stop request, and the link broke before it answered, but it still answers; it was not stopped."
                        + " Check with 'circuit hosts', and ask again");
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            if (took == Took.ENDED) {
                out.println("host " + name + " (" + e.worker() + " at " + e.address() + ") had already ended: nothing listens"
                    + " at its address; its entry left with its ZooKeeper session");
            } else {
                out.println("stopped host " + name + " (" + e.worker() + " at " + e.address() + ")" + note);
            }
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

    /** How a host took the stop request. */
    private enum Took {
        /** It answered: it is stopping. */
        ACKNOWLEDGED,
        /** It was sent the request, and its link broke before the answer came: stopping, or it died. */
        LINK_LOST,
        /** Nothing listens at its address (the connection was refused): its runtime has ended. */
        ENDED
    }

    /**
     * Asks the host to stop. Only a host that answers, or whose link broke once it had the request,
     * or at whose address nothing listens, may be stopped: one that took the connection but said
     * nothing (paused with SIGSTOP, say) or could not be reached in time was not asked, and would run
     * on; its entry leaving with its ZooKeeper session says nothing of its process.
     *
     * @throws IllegalStateException when the host would not link (another cluster key), or does not answer
     */
    private Took requestStop(CircuitRuntime client, Hosts.Host host) {
        try {
            client.anchors().worker(host.entry()).dial(HostService.SERVICE, HostService.class).stop();
            return Took.ACKNOWLEDGED;
        } catch (WorkerDiedException gone) {
            if (io.jcircuit.link.HandshakeFailedException.caused(gone)) {
                // it is there but would not link with us (a cluster-key mismatch): it was never asked. Its entry
                // names its key, which says so plainly where the link's failure can only ask
                String why = HostService.keyMismatch(client.clusterKeyFingerprint(), List.of(host.entry()), null, "command")
                    .orElse(gone.getCause().getMessage());
                throw new IllegalStateException("cannot ask host " + host.name() + " to stop: " + why, gone);
            }
            if (gone.outcomeUnknown()) {
                return Took.LINK_LOST;
            }
            if (gone.getCause() instanceof java.net.ConnectException refused
                && String.valueOf(refused.getMessage()).contains("refused")) {
                return Took.ENDED;
            }
            throw silent(host, gone);
        } catch (io.jcircuit.DeadlineExceededException late) {
            throw silent(host, late);
        }
    }

    /** A host that was not reached or did not answer: not stopped, and what to do. */
    private static IllegalStateException silent(Hosts.Host host, RuntimeException why) {
        Entry e = host.entry();
        return new IllegalStateException("host " + host.name() + " (" + e.worker() + " at " + e.address() + ") does not answer ("
            + WorkerOps.why(why) + "), so it was not asked to stop and may run on: it may be paused (SIGSTOP), overloaded, or"
            + " cut off from here. Check with 'circuit hosts'; if it is hung, end its process on its machine (pid " + e.pid()
            + " on " + e.host() + ", e.g. 'kill -9 " + e.pid() + "')", why);
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
