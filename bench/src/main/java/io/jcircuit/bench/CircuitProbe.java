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
     * {@code into}. All calls share {@code client}'s one link to the server.
     *
     * <ul>
     *   <li>sync round trip: {@code echo.echo("hello")} timed one by one on this thread;</li>
     *   <li>8 callers: {@link BenchClient#CALLERS} threads from {@code callers} calling back to back;</li>
     *   <li>async: JCircuit has no async API yet, so {@link BenchClient#ASYNC_CALLERS} virtual threads
     *       call back to back on the one link, keeping up to that many calls in flight; the rate is
     *       calls completed per second in steady state;</li>
     *   <li>go: {@code worker.go(() -> 1)} timed one by one on this thread.</li>
     * </ul>
     */
    static void measure(Circuit client, Address server, Plan plan, ThreadFactory callers, Map<Metric, Double> into)
        throws Exception {
        Echo echo = client.dial(server, SERVICE, Echo.class);
        Loops.Call call = () -> BenchClient.check(echo.echo(BenchClient.MESSAGE));

        long[] rtt = Loops.roundTrips(call, plan.rttWarmup(), plan.rttSamples());
        into.put(CIRCUIT_RTT_P50, Percentiles.micros(rtt, 50));
        into.put(CIRCUIT_RTT_P99, Percentiles.micros(rtt, 99));
        into.put(CIRCUIT_CALLS_8, Loops.callsPerSecond(call, BenchClient.CALLERS, callers, plan));
        into.put(CIRCUIT_ASYNC, Loops.callsPerSecond(call, BenchClient.ASYNC_CALLERS,
            Thread.ofVirtual().name("bench-async-", 0).factory(), plan));

        Worker worker = client.worker(server);
        long[] go = Loops.roundTrips(() -> {
            Integer one = worker.go(ONE);
            if (one == null || one != 1) {
                throw new IllegalStateException("go(() -> 1) returned " + one);
            }
        }, plan.rttWarmup() / 4, plan.goSamples());
        into.put(CIRCUIT_GO_RTT_P50, Percentiles.micros(go, 50));
    }
}
