package io.jcircuit.bench;

import io.jcircuit.Address;
import io.jcircuit.Circuit;
import io.jcircuit.Fn;
import io.jcircuit.Worker;

import java.util.Map;
import java.util.concurrent.ThreadFactory;

import static io.jcircuit.bench.Metric.CIRCUIT_ASYNC;
import static io.jcircuit.bench.Metric.CIRCUIT_CALLS_8;
import static io.jcircuit.bench.Metric.CIRCUIT_GO_RTT_P50;
import static io.jcircuit.bench.Metric.CIRCUIT_RTT_P50;
import static io.jcircuit.bench.Metric.CIRCUIT_RTT_P99;
import static io.jcircuit.bench.Metric.RMI_CALLS_8;

/** JCircuit, on the client side: calls on a dialed {@link Echo} and {@code go} on the server's worker. */
final class CircuitProbe {

    /** The name the server child publishes its {@link Echo} under. */
    static final String SERVICE = "echo";

    /** What {@code go} runs on the server: a serializable lambda that captures nothing. */
    private static final Fn<Integer> ONE = () -> 1;

    private CircuitProbe() {
    }

    /**
     * Measures the JCircuit figures against the server at {@code server} and puts them into
     * {@code into}. All calls share {@code client}'s one link to the server. Each warm-up that runs until
     * the compilers are done ({@link Loops#untilCompiled}) counts the JIT of both JVMs: this one's and the
     * server's ({@link Echo#compileMillis}).
     *
     * <ul>
     *   <li>warm-up: this thread, {@link BenchClient#CALLERS} callers and a {@code go} caller all run at
     *       once, so that both JVMs compile the paths of synchronous calls while the clock runs once,
     *       until the compilers are done ({@link Plan#sharedWarmupMinMs} to {@link Plan#sharedWarmupMaxMs});</li>
     *   <li>sync round trip: {@code echo.echo("hello")} timed one by one on this thread;</li>
     *   <li>8 callers: first RMI's {@link BenchClient#CALLERS} callers alone, until the compilers are
     *       done with them too ({@link Plan#warmupMs()} to {@link Plan#rmiWarmupMaxMs});
     *       then {@link BenchClient#CALLERS} threads from {@code callers} calling back to back,
     *       in {@link Plan#pairs8()} windows taken in turn with as many threads from {@code rmiCallers}
     *       calling {@code rmiCall};
     *       each figure, JCircuit's and RMI's, is the median of its windows ({@link Loops#inTurns});</li>
     *   <li>go: {@code worker.go(() -> 1)} timed one by one on this thread;</li>
     *   <li>async, last: one platform thread calls {@code echo.echoAsync("hello")}, which returns a future
     *       at once, keeping up to {@link BenchClient#ASYNC_IN_FLIGHT} calls in flight on the one link
     *       ({@link AsyncLoad}), after a warm-up of its own, until the compilers are done
     *       ({@link Plan#warmupMs()} to {@link Plan#asyncWarmupMaxMs}); the rate is calls
     *       completed per second in steady state.</li>
     * </ul>
     * Each figure also has its own warm-up of {@link Plan#warmupMs()} (a quarter of it for each window of
     * 8 callers). Returns the windows of the 8 callers, RMI's first; {@code note} gets how long the
     * warm-ups took.
     */
    static Loops.InTurns measure(Circuit client, Address server, Plan plan, ThreadFactory callers, Loops.Call rmiCall,
                                 ThreadFactory rmiCallers, Map<Metric, Double> into, StringBuilder note) throws Exception {
        Echo echo = client.dial(server, SERVICE, Echo.class);
        Worker worker = client.worker(server);
        Loops.Call call = () -> BenchClient.check(echo.echo(BenchClient.MESSAGE));
        Loops.Call go = () -> {
            Integer one = worker.go(ONE);
            if (one == null || one != 1) {
                throw new IllegalStateException("go(() -> 1) returned " + one);
            }
        };
        java.util.function.LongSupplier compiled = () -> Loops.compileMillis() + echo.compileMillis();
        int cpus = Runtime.getRuntime().availableProcessors();
        Loops.Warmed warmed = warmUp(call, go, callers, compiled, plan.sharedWarmupMinMs(cpus), plan.sharedWarmupMaxMs(cpus));
        note.append("warm-ups until compiled: shared ").append(warmed.describe());

        long[] rtt = Loops.roundTrips(call, plan.warmupMs(), plan.rttSamples());
        into.put(CIRCUIT_RTT_P50, Percentiles.micros(rtt, 50));
        into.put(CIRCUIT_RTT_P99, Percentiles.micros(rtt, 99));
        // RMI's 8 callers have had no warm-up of their own (the round trip's is one caller's): alone first,
        // so that neither side's windows measure the other's compiler
        Crew rmi = Crew.start(BenchClient.CALLERS, rmiCallers, rmiCall);
        try {
            warmed = Loops.untilCompiled(compiled, Thread::sleep, plan.warmupMs(), plan.rmiWarmupMaxMs(cpus));
        } finally {
            rmi.stop();
        }
        note.append(", RMI's 8 callers ").append(warmed.describe());
        // RMI's 8 callers and JCircuit's, in turn: the figures the issue-2 bar compares see the same machine
        Loops.InTurns eight = Loops.inTurns(rmiCall, rmiCallers, call, callers, BenchClient.CALLERS, plan.pairs8(),
            plan.warmupMs() / 4, plan.window8Ms());
        into.put(RMI_CALLS_8, eight.firstMedian());
        into.put(CIRCUIT_CALLS_8, eight.secondMedian());
        into.put(CIRCUIT_GO_RTT_P50, Percentiles.micros(Loops.roundTrips(go, plan.warmupMs(), plan.goSamples()), 50));
        // Last, so that the compiler's work on the asynchronous paths (futures, the completer, answers sent when
        // a callee's future completes, none of which the shared warm-up runs) falls on no other figure.
        AsyncLoad load = AsyncLoad.start(echo, BenchClient.ASYNC_IN_FLIGHT);
        try {
            warmed = Loops.untilCompiled(compiled, Thread::sleep, plan.warmupMs(), plan.asyncWarmupMaxMs(cpus));
            into.put(CIRCUIT_ASYNC, Loops.perSecond(load::answered, 0, plan.measureMs()));
        } finally {
            load.stop();
        }
        note.append(", async ").append(warmed.describe());
        return eight;
    }

    /** The 8-caller figure alone, counted for {@code measureMs} after {@code warmupMs}, against the server at {@code server}. */
    static double callsPerSecond8(Circuit client, Address server, long warmupMs, long measureMs, ThreadFactory callers)
        throws Exception {
        Echo echo = client.dial(server, SERVICE, Echo.class);
        Loops.Call call = () -> BenchClient.check(echo.echo(BenchClient.MESSAGE));
        return Loops.callsPerSecond(call, BenchClient.CALLERS, callers, warmupMs, measureMs);
    }

    /**
     * Small items sent from this runtime into a channel owned by the server, whose consumer counts
     * them there; the rate is what the consumer received per second in steady state.
     */
    static double chanItemsPerSecond(Circuit client, Address server, Plan plan) throws Exception {
        Echo echo = client.dial(server, SERVICE, Echo.class);
        io.jcircuit.Chan<Integer> sink = echo.sink();
        Crew producer = Crew.start(1, Thread.ofVirtual().name("bench-chan-producer").factory(), () -> {
            for (int i = 0; i < 1_000; i++) {
                sink.send(i);
            }
        });
        try {
            return Loops.perSecond(echo::received, plan.warmupMs(), plan.measureMs());
        } finally {
            producer.stop();
            sink.close();
        }
    }

    /**
     * Runs the sync, 8-caller and {@code go} patterns together until the compilers are done with them
     * ({@link Loops#untilCompiled}).
     */
    private static Loops.Warmed warmUp(Loops.Call call, Loops.Call go, ThreadFactory callers, java.util.function.LongSupplier compiled,
                                       long minMs, long maxMs) throws Exception {
        Crew eight = Crew.start(BenchClient.CALLERS, callers, call);
        Crew goer = null;
        try {
            goer = Crew.start(1, Thread.ofVirtual().name("bench-warm-go").factory(), go);
            return Loops.untilCompiled(compiled, ms -> Loops.roundTrips(call, ms, 1), minMs, maxMs);
        } finally {
            eight.stop();
            if (goer != null) {
                goer.stop();
            }
        }
    }
}
