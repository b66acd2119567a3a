package io.jcircuit.cli.console;

import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.Entry;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.ops.MetricsSnapshot;
import io.jcircuit.runtime.ops.Ops;
import io.jcircuit.runtime.ops.OpsInfo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Takes pictures of a live circuit: reads the namespace, asks every runtime under {@code /worker} for
 * its {@link Ops#info} and {@link Ops#metrics}, and turns the call counters into flows. The web
 * console, {@code circuit top} and {@code circuit flow} share it.
 *
 * <p>Runtimes are asked in parallel, one virtual thread each, every one within {@code pollTimeout}; a
 * runtime that does not answer in time, or fails, is marked unreachable with the error, and the
 * picture is still taken. Flow rates are differences between a caller's counters now and at the
 * previous {@link #sample()}, so the first picture has rates of 0.
 *
 * <p><b>Threading:</b> {@link #sample()} is synchronized: one picture at a time, since each one
 * consumes the previous counters. It blocks for at most about {@code pollTimeout} plus one
 * namespace listing. The sampler owns neither the namespace nor the client runtime.
 */
public final class CircuitSampler {

    /** The default time each runtime has to answer. */
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofSeconds(2);
    private static final String WORKER_DIR = "/worker";

    private final Namespace namespace;
    private final Circuit client;
    private final Duration pollTimeout;
    /** Each reachable runtime's last metrics, for the rates of the next picture. */
    private final Map<String, MetricsSnapshot> previous = new HashMap<>();

    /**
     * @param namespace   the circuit's namespace, open for as long as the sampler is used
     * @param client      a runtime that can reach the workers (with the cluster key when the circuit is secured)
     * @param pollTimeout the time each runtime has to answer, per picture
     */
    public CircuitSampler(Namespace namespace, Circuit client, Duration pollTimeout) {
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.client = Objects.requireNonNull(client, "client");
        this.pollTimeout = Objects.requireNonNull(pollTimeout, "pollTimeout");
        if (pollTimeout.isNegative() || pollTimeout.isZero()) {
            throw new IllegalArgumentException("pollTimeout=" + pollTimeout + " must be positive");
        }
    }

    /**
     * Takes one picture. Never fails because of a worker; fails only when the namespace cannot be read.
     *
     * @throws io.jcircuit.anchor.NamespaceException when ZooKeeper cannot be read
     */
    public synchronized CircuitPicture sample() {
        long start = System.nanoTime();
        long at = System.currentTimeMillis();
        List<Entry> entries = namespace.listAnchors("/", true).entries();
        List<CircuitPicture.Host> hosts = hosts(entries);
        Map<String, Entry> live = new TreeMap<>();
        for (Entry e : entries) {
            if (e.dir().equals(WORKER_DIR)) {
                live.put(e.worker().toString(), e);
            }
        }
        Map<String, Answer> answers = poll(live.values());
        List<CircuitPicture.Worker> workers = new ArrayList<>();
        for (Entry e : live.values()) {
            workers.add(worker(e, entries, hosts, answers.get(e.worker().toString())));
        }
        List<CircuitPicture.Flow> flows = flows(live.keySet(), answers);
        return new CircuitPicture(at, (System.nanoTime() - start) / 1_000_000, hosts, workers,
            anchors(entries), flows);
    }

    /** What one runtime answered: both parts, or the error. */
    private record Answer(OpsInfo info, MetricsSnapshot metrics, String error) {
    }

    private Map<String, Answer> poll(Iterable<Entry> live) {
        Map<String, Future<Answer>> pending = new LinkedHashMap<>();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (Entry e : live) {
                pending.put(e.worker().toString(), threads.submit(() -> ask(e)));
            }
            Map<String, Answer> answers = new HashMap<>();
            long until = System.nanoTime() + pollTimeout.toNanos() + 1_000_000_000L;
            for (var p : pending.entrySet()) {
                answers.put(p.getKey(), await(p.getValue(), until));
            }
            return answers;
        } finally {
            threads.shutdownNow(); // never wait for a straggler: its deadline ends it
        }
    }

    private Answer ask(Entry e) {
        try {
            return Deadline.within(pollTimeout, () -> {
                Ops ops = client.worker(e.address()).dial(Ops.SERVICE, Ops.class);
                return new Answer(ops.info(), ops.metrics(), null);
            });
        } catch (RuntimeException ex) {
            return new Answer(null, null, describe(ex));
        }
    }

    private static Answer await(Future<Answer> f, long untilNanos) {
        try {
            return f.get(Math.max(0, untilNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return new Answer(null, null, "interrupted while waiting for the answer");
        } catch (java.util.concurrent.TimeoutException ex) {
            return new Answer(null, null, "no answer in time");
        } catch (java.util.concurrent.ExecutionException ex) {
            return new Answer(null, null, describe(ex.getCause()));
        }
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    private static List<CircuitPicture.Host> hosts(List<Entry> entries) {
        List<CircuitPicture.Host> hosts = new ArrayList<>();
        for (Entry e : entries) {
            String name = HostService.daemonOf(e);
            if (name != null && HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY))) {
                Integer count;
                try {
                    count = Integer.valueOf(e.metadata().getOrDefault("workers", ""));
                } catch (NumberFormatException ex) {
                    count = null;
                }
                String warm = e.metadata().getOrDefault(HostService.WARM_KEY, "");
                hosts.add(new CircuitPicture.Host(name, e.address().toString(),
                    e.worker().toString(), count, warm.isBlank() ? List.of() : List.of(warm.trim().split(" +"))));
            }
        }
        hosts.sort(java.util.Comparator.comparing(CircuitPicture.Host::name));
        return hosts;
    }

    private static CircuitPicture.Worker worker(Entry e, List<Entry> entries, List<CircuitPicture.Host> hosts, Answer a) {
        String id = e.worker().toString();
        Set<String> dirs = new TreeSet<>();
        String role = "runtime";
        String host = e.host(); // the machine; a runtime a host daemon started is shown under the daemon's name
        for (Entry other : entries) {
            if (other.worker().equals(e.worker()) && !other.dir().equals(WORKER_DIR)) {
                dirs.add(other.dir());
                String daemon = HostService.daemonOf(other);
                if (daemon != null) {
                    host = daemon;
                    if (HostService.ROLE_WORKER.equals(other.metadata().get(HostService.ROLE_KEY))) {
                        role = "worker";
                    }
                }
            }
        }
        if (hosts.stream().anyMatch(h -> h.worker().equals(id))) {
            role = "host";
        }
        if (role.equals("runtime")) {
            for (CircuitPicture.Host h : hosts) {
                if (h.warm().contains(id)) { // a JVM the host keeps warm, that no spawn has taken yet
                    role = "standby";
                    host = h.name();
                }
            }
        }
        if (a == null || a.error() != null) {
            return new CircuitPicture.Worker(id, e.address().toString(), host, e.host(), e.pid(), role, List.copyOf(dirs),
                false, a == null ? "not asked" : a.error(), null, -1, null, -1, -1, -1, -1);
        }
        var jvm = a.metrics().jvm();
        return new CircuitPicture.Worker(id, e.address().toString(), host, e.host(), e.pid(), role, List.copyOf(dirs), true,
            null, a.info().version(), a.info().uptimeMillis(), a.info().services(), jvm.heapUsed(), jvm.heapMax(),
            jvm.threads(), jvm.processCpuLoad());
    }

    private static Map<String, List<String>> anchors(List<Entry> entries) {
        Map<String, List<String>> tree = new TreeMap<>();
        for (Entry e : entries) {
            if (!e.dir().equals(WORKER_DIR)) {
                tree.computeIfAbsent(e.dir(), k -> new ArrayList<>()).add(e.worker().toString());
            }
        }
        tree.values().forEach(ids -> ids.sort(null));
        return tree;
    }

    /** Flows between live runtimes; consumes and replaces the previous counters. */
    private List<CircuitPicture.Flow> flows(Set<String> live, Map<String, Answer> answers) {
        List<CircuitPicture.Flow> flows = new ArrayList<>();
        for (String from : live) {
            Answer a = answers.get(from);
            if (a == null || a.metrics() == null) {
                continue; // keep its previous counters: the next answer is rated against them
            }
            MetricsSnapshot before = previous.put(from, a.metrics());
            // the sampler's own calls (a console a host daemon serves, whose runtime is under /worker) are not the circuit's
            boolean sampler = from.equals(client.id().toString());
            Map<String, FlowCounters> now = FlowCounters.outByPeer(a.metrics(), sampler);
            Map<String, FlowCounters> then = before == null ? Map.of() : FlowCounters.outByPeer(before, sampler);
            double seconds = before == null ? 0 : (a.metrics().atMillis() - before.atMillis()) / 1000.0;
            for (var c : now.entrySet()) {
                if (live.contains(c.getKey())) {  // peers outside /worker are clients such as this console
                    flows.add(c.getValue().flow(from, c.getKey(), then.get(c.getKey()), seconds));
                }
            }
        }
        previous.keySet().retainAll(live);
        return flows;
    }
}
