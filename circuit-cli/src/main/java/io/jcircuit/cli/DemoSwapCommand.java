package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.SpawnOptions;
import io.jcircuit.examples.swap.TallyShard;
import io.jcircuit.examples.swap.TallyShardImpl;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.HdrHistogram.ConcurrentHistogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code circuit demo swap}: hot swap, measured. A local circuit runs a sharded tally (version 1, the
 * {@code examples} jar) under load from several clients; then every shard is swapped, one at a time,
 * to version 2 (the {@code examples-v2} jar, deployed first) while the load goes on. The report counts
 * the calls, the failed ones, which version answered, and the p99 latency before and during the swap;
 * it also checks that every count survived the swaps.
 */
@Command(name = "swap", mixinStandardHelpOptions = true,
    description = {"Keep a sharded service under load and hot-swap every shard to a new version of its code.",
        "The report gives the calls, the failed calls (must be 0), the calls each version answered, and the p99 latency "
            + "before and during the swap."})
final class DemoSwapCommand implements Callable<Integer> {

    @Option(names = "--shards", defaultValue = "3", paramLabel = "N", description = "Shards (default ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--clients", defaultValue = "8", paramLabel = "N", description = "Client threads calling (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--before", defaultValue = "3", paramLabel = "SECONDS",
        description = "Load measured before the swap starts, after a second of warm-up (default ${DEFAULT-VALUE}).")
    int beforeSeconds;

    @Option(names = "--json", description = "Print one JSON object instead of the report.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (shards < 1 || shards > 16) {
            throw new IllegalArgumentException("--shards " + shards + ": give 1 to 16");
        }
        if (clients < 1 || clients > 256) {
            throw new IllegalArgumentException("--clients " + clients + ": give 1 to 256");
        }
        Path v2 = DemoSwapJar.locate();
        PrintWriter err = spec.commandLine().getErr();
        Path state = LocalDirs.create("jcircuit-demo-swap-");
        HostDaemon host = HostDaemon.start(new HostDaemon.Config("local", state, null, null, 0, 0));
        CircuitRuntime driver = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
        Thread cleanup = new Thread(() -> DemoCommand.stop(driver, host, state, java.time.Duration.ZERO), "demo-swap-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        Map<String, Object> report = null;
        try {
            err.printf("local circuit: host 'local' at %s; %d tally shards (v1) under load from %d clients%n",
                host.address(), shards, clients);
            String deployment;
            try (io.jcircuit.anchor.Namespace ns = io.jcircuit.anchor.Namespace.connect(
                io.jcircuit.anchor.NamespaceConfig.of(host.zookeeper()))) {
                // the driver holds no key: the record is written unsigned, as the driver's spawns read it
                deployment = DeployCommand.deploy(ns, new io.jcircuit.runtime.host.Deployments(ns, null), driver, v2, "tally",
                    err, true).recorded().deployment().label();
            }
            err.println("deployed " + v2.getFileName() + " as " + deployment);
            for (int i = 0; i < shards; i++) {
                driver.spawn("local", List.of("/tally/shard-" + i), () -> {
                    Circuit.current().listen(TallyShard.SERVICE, TallyShard.class, new TallyShardImpl());
                    return Circuit.current().id().toString();
                }, SpawnOptions.defaults().daemonized());
            }
            report = run(driver, deployment, err);
        } catch (RuntimeException e) {
            throw ShutdownHooks.jvmEnding() ? DemoCommand.stopped(e) : e;
        } finally {
            if (ShutdownHooks.unhook(cleanup)) {
                DemoCommand.stop(driver, host, state, java.time.Duration.ZERO, report == null || !passed(report) ? err : null);
            }
        }
        if (ShutdownHooks.jvmEnding()) {
            // the clients' calls failed as the circuit closed under them: no report of the swap
            throw DemoCommand.stopped(null);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(report));
        } else {
            report.forEach((k, v) -> out.println(k + ": " + v));
        }
        out.flush();
        return passed(report) ? 0 : 1;
    }

    /** No call failed, every count made it, every shard was swapped. */
    private static boolean passed(Map<String, Object> report) {
        return ((Number) report.get("failed")).longValue() == 0 && (boolean) report.get("counts_kept")
            && !report.containsKey("swap_error");
    }

    private Map<String, Object> run(CircuitRuntime driver, String deployment, PrintWriter err) throws Exception {
        List<TallyShard> refs = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            Entry e = driver.anchors().list("/tally/shard-" + i).entries().getFirst();
            refs.add(driver.anchors().worker(e).dial(TallyShard.SERVICE, TallyShard.class));
        }
        ConcurrentHistogram warmUp = new ConcurrentHistogram(1, 60_000_000L, 2); // the first second: JIT, not the service
        ConcurrentHistogram before = new ConcurrentHistogram(1, 60_000_000L, 2);
        ConcurrentHistogram during = new ConcurrentHistogram(1, 60_000_000L, 2);
        AtomicReference<ConcurrentHistogram> phase = new AtomicReference<>(warmUp);
        LongAdder v1 = new LongAdder();
        LongAdder v2 = new LongAdder();
        LongAdder failed = new LongAdder();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicLong[] added = new AtomicLong[shards];
        for (int i = 0; i < shards; i++) {
            added[i] = new AtomicLong();
        }
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            int me = c;
            Thread.ofVirtual().name("demo-swap-client-" + c).start(() -> {
                try {
                    for (long n = 0; !stop.get(); n++) {
                        int shard = (int) ((n + me) % shards);
                        long t0 = System.nanoTime();
                        try {
                            TallyShard.Ack ack = refs.get(shard).add("k" + me, 1);
                            phase.get().recordValue(Math.max(1, (System.nanoTime() - t0) / 1_000));
                            added[shard].incrementAndGet();
                            (ack.version().equals("v2") ? v2 : v1).increment();
                        } catch (RuntimeException e) {
                            failed.increment();
                            if (failures.size() < 5) {
                                failures.add(e.toString());
                            }
                        }
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        Thread.sleep(1000L); // warm-up, not counted in either latency (the calls still count)
        phase.set(before);
        Thread.sleep(beforeSeconds * 1000L); // the load before the swap, measured as "before"
        phase.set(during);
        long swapStart = System.nanoTime();
        Swapper swapper = new Swapper(driver, dir -> driver.anchors().listAll(dir).entries(),
            SpawnOptions.defaults().withDeployment(deployment), Duration.ofSeconds(10), Duration.ofSeconds(1));
        List<String> swapped = new ArrayList<>();
        String swapError = null;
        try {
            for (int i = 0; i < shards; i++) {
                List<Entry> filed = driver.anchors().list("/tally/shard-" + i).entries();
                if (filed.isEmpty()) {
                    throw new IllegalStateException("shard " + i + " is gone from /tally/shard-" + i + " (its worker died or"
                        + " left): nothing to swap there");
                }
                Entry old = filed.getFirst();
                Swapper.Swapped s = swapper.swap(old, TallyShard.SERVICE);
                swapped.add(s.oldWorker() + "->" + s.newWorker());
                err.printf("shard %d: %s -> %s in %d ms (spawn and take-over %d ms, drain %d ms, then the linger)%n", i,
                    s.oldWorker(), s.newWorker(), s.millis(), s.takeOverMillis(), s.drainMillis());
            }
        } catch (RuntimeException e) {
            // the load stops and the report still comes, with what went wrong and what was swapped before it
            swapError = String.valueOf(e.getMessage() != null ? e.getMessage() : e);
            err.println("swap failed: " + swapError);
        }
        long swapMs = (System.nanoTime() - swapStart) / 1_000_000;
        stop.set(true);
        done.await();
        // every count made it through the swaps: what each shard now says is what the clients added
        long counted = 0;
        String countError = null;
        try {
            for (int i = 0; i < shards; i++) {
                for (int c = 0; c < clients; c++) {
                    counted += refs.get(i).count("k" + c);
                }
            }
        } catch (RuntimeException e) {
            countError = e.toString();
        }
        long total = 0;
        for (AtomicLong a : added) {
            total += a.get();
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("calls", v1.sum() + v2.sum() + failed.sum());
        r.put("failed", failed.sum());
        r.put("v1_calls", v1.sum());
        r.put("v2_calls", v2.sum());
        r.put("p99_before_ms", before.getValueAtPercentile(99) / 1000.0);
        r.put("p99_during_ms", during.getValueAtPercentile(99) / 1000.0);
        r.put("shards", shards);
        r.put("clients", clients);
        r.put("swap_ms", swapMs);
        r.put("counts_kept", countError == null && counted == total);
        r.put("swapped", swapped);
        if (swapError != null) {
            r.put("swap_error", swapError);
        }
        if (countError != null) {
            r.put("count_error", countError);
        }
        if (!failures.isEmpty()) {
            r.put("first_failures", new ArrayList<>(failures));
        }
        return r;
    }
}
