package io.jcircuit.bench;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;

import java.io.PrintStream;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

import static io.jcircuit.bench.Metric.RMI_RTT_P50;
import static io.jcircuit.bench.Metric.TCP_PIPELINED;
import static io.jcircuit.bench.Metric.TCP_RTT_P50;

/**
 * The client child: measures every {@link Metric.Group#CALLS} figure against a {@link BenchServer} and prints
 * one {@link BenchSpawner#NOTE_PREFIX} line (the 8-caller windows) and then the figures as one
 * {@link #RESULT_PREFIX} JSON line on stdout, then exits 0 (1 on failure, with the cause on stderr).
 * The peers run one after another, never at once: raw TCP, then RMI, then JCircuit (whose 8 callers
 * take turns with RMI's).
 *
 * <p>Run by the orchestrator as {@code java ... io.jcircuit.bench.BenchClient <plan> <ports line>}.
 * It exits as soon as its stdin ends, so it never outlives the orchestrator.
 */
public final class BenchClient {

    static final String RESULT_PREFIX = "BENCH-RESULT ";
    /** The short string that RMI and JCircuit echo. */
    static final String MESSAGE = "hello";
    /** Callers of the "8 concurrent callers" figures. */
    static final int CALLERS = 8;
    /** Asynchronous calls kept in flight on one link for the pipelined figure. */
    static final int ASYNC_IN_FLIGHT = 256;
    /** Generous, so that a slow pinned pass is measured rather than failed. */
    private static final long CALL_TIMEOUT_MS = 60_000;

    private BenchClient() {
    }

    public static void main(String[] args) {
        PrintStream protocol = ChildStdio.claimStdout();
        ChildStdio.exitWhenStdinEnds();
        int code = 1;
        try {
            if (args.length != 2) {
                throw new IllegalArgumentException("usage: BenchClient <full|quick|smoke> '<ports line>'");
            }
            StringBuilder note = new StringBuilder();
            Results r = measure(Plan.named(args[0]), Endpoints.parse(args[1]), note);
            protocol.println(BenchSpawner.NOTE_PREFIX + note);
            protocol.println(RESULT_PREFIX + r.toJson());
            protocol.flush();
            code = 0;
        } catch (Throwable t) {
            System.err.println("bench client failed:");
            t.printStackTrace();
        }
        System.exit(code);
    }

    /** The call figures; {@code note} gets the 8-caller windows, for the progress stream. */
    static Results measure(Plan plan, Endpoints server, StringBuilder note) throws Exception {
        Map<Metric, Double> f = new EnumMap<>(Metric.class);
        f.put(TCP_RTT_P50, Percentiles.micros(TcpProbe.roundTrips(server.tcpPort(), plan), 50));
        f.put(TCP_PIPELINED, TcpProbe.pipelinedMessagesPerSecond(server.tcpPort(), plan));

        RmiEcho rmi = RmiServerSide.decode(server.rmiStub());
        Loops.Call rmiCall = () -> check(rmi.echo(MESSAGE));
        // RMI's round trip warms up as JCircuit's does, until the compilers of both JVMs are done with it: with
        // the per-figure warm-up alone (0.7 s in the quick plan) RMI's round trip read 65-80 us on a slow VM
        // where the full plan's read 26-40, and JCircuit's "below RMI" was judged against RMI's JIT.
        int cpus = Runtime.getRuntime().availableProcessors();
        Loops.Warmed rmiWarmed = Loops.untilCompiled(() -> Loops.compileMillis() + serverCompileMillis(rmi),
            ms -> Loops.roundTrips(rmiCall, ms, 1), plan.warmupMs(), plan.rmiWarmupMaxMs(cpus));
        f.put(RMI_RTT_P50, Percentiles.micros(Loops.roundTrips(rmiCall, plan.warmupMs(), plan.rttSamples()), 50));

        RuntimeConfig config = RuntimeConfig.builder().defaultCallTimeoutMs(CALL_TIMEOUT_MS).build();
        try (CircuitRuntime client = CircuitRuntime.start(config)) {
            StringBuilder warmUps = new StringBuilder();
            Loops.InTurns eight = CircuitProbe.measure(client, server.circuit(), plan, callerThreads(), rmiCall,
                rmiCallerThreads(), f, warmUps);
            note.append("8 callers, windows in turn, k calls/s: ").append(eight.describe("RMI", "JCircuit"))
                .append("; ").append(warmUps).append(", RMI's round trip ").append(rmiWarmed.describe());
        }
        // What the always-on call metrics cost: the same 8 callers between two fresh runtime pairs, one
        // keeping metrics on both sides and one keeping none, measured on, off, off, on, so that a drift
        // in the machine's speed over the four cancels out; each figure is the mean of its two. This runs
        // before the channel figure, whose consumer may still be draining items when that figure ends.
        RuntimeConfig bare = RuntimeConfig.builder().defaultCallTimeoutMs(CALL_TIMEOUT_MS).callMetrics(false).build();
        try (CircuitRuntime withMetrics = CircuitRuntime.start(config);
             CircuitRuntime without = CircuitRuntime.start(bare)) {
            // Uncounted first: code the earlier figures compiled for one profile (metrics kept) deoptimizes
            // when the other pair takes its branch, and is compiled again for both. Then four short windows:
            // the A/B adds about 5 s to a quick pass. They are too short to resolve the 2-3 % the metrics
            // cost (docs/performance.md has a longer A/B): two windows of one side lie up to 20 % apart on
            // a 2-CPU VM, so the spread between them is kept too, and the target's verdict says "?" for a
            // shortfall that this spread explains.
            long warm = plan.warmupMs() / 4;
            long window = plan.measureMs() / 2;
            CircuitProbe.callsPerSecond8(without, server.bareCircuit(), 0, plan.warmupMs(), callerThreads());
            CircuitProbe.callsPerSecond8(withMetrics, server.circuit(), 0, plan.warmupMs(), callerThreads());
            double on1 = CircuitProbe.callsPerSecond8(withMetrics, server.circuit(), warm, window, callerThreads());
            double off1 = CircuitProbe.callsPerSecond8(without, server.bareCircuit(), warm, window, callerThreads());
            double off2 = CircuitProbe.callsPerSecond8(without, server.bareCircuit(), warm, window, callerThreads());
            double on2 = CircuitProbe.callsPerSecond8(withMetrics, server.circuit(), warm, window, callerThreads());
            f.put(Metric.CIRCUIT_CALLS_8_NOMETRICS, (off1 + off2) / 2);
            f.put(Metric.CIRCUIT_CALLS_8_METRICS, (on1 + on2) / 2);
            f.put(Metric.CIRCUIT_METRICS_AB_SPREAD, 100 * Math.max(spread(on1, on2), spread(off1, off2)));
            note.append("; metrics A/B, k calls/s: on ").append(k(on1)).append(", off ").append(k(off1))
                .append(", off ").append(k(off2)).append(", on ").append(k(on2));
        }
        try (CircuitRuntime client = CircuitRuntime.start(config)) {
            f.put(Metric.CHAN_ITEMS, CircuitProbe.chanItemsPerSecond(client, server.circuit(), plan));
        }
        return Results.of(Metric.Group.CALLS, f);
    }

    /**
     * JCircuit's 8 concurrent callers: virtual threads, as a Java 25 program that makes blocking calls
     * from many tasks starts them, and as JCircuit itself runs incoming calls and {@code go} functions.
     * With platform threads JCircuit made fewer calls/s on these VMs (about 84 k against 95-200 k,
     * docs/performance.md).
     */
    private static ThreadFactory callerThreads() {
        return Thread.ofVirtual().name("bench-caller-", 0).factory();
    }

    /**
     * RMI's 8 concurrent callers: platform threads, with which RMI does best. With virtual threads it
     * made 83 k calls/s against 95-107 k on platform threads in the same hour, and fewer again in a JVM
     * with one carrier thread, which is what a JVM that JCircuit starts on two CPUs has
     * ({@code io.jcircuit.host.CpuOptions}); the bench's client JVM is such a JVM.
     */
    private static ThreadFactory rmiCallerThreads() {
        return Thread.ofPlatform().name("bench-rmi-caller-", 0).factory();
    }

    /** The server JVM's compile time, asked over RMI (the service the round trip warms up). */
    private static long serverCompileMillis(RmiEcho rmi) {
        try {
            return rmi.compileMillis();
        } catch (java.rmi.RemoteException e) {
            throw new BenchException("the RMI server did not say how long it compiled: " + e, e);
        }
    }

    /** How far two windows of one configuration lay apart, as a share of their mean. */
    static double spread(double a, double b) {
        double mean = (a + b) / 2;
        return mean > 0 ? Math.abs(a - b) / mean : 0;
    }

    private static String k(double perSecond) {
        return String.format(Locale.ROOT, "%.0f", perSecond / 1000);
    }

    /** Fails when an echo came back wrong, so that a broken peer cannot look fast. */
    static void check(String echoed) {
        if (!MESSAGE.equals(echoed)) {
            throw new IllegalStateException("echo returned '" + echoed + "', expected '" + MESSAGE + "'");
        }
    }
}
