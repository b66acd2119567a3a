/**
 * {@code bin/circuit bench}: JCircuit measured beside raw TCP and Java RMI in one run (DESIGN §8).
 *
 * <pre>
 *   orchestrator (Bench, in the CLI's JVM)            for each pass: unpinned, then taskset -c 0
 *     ├─ server JVM (BenchServer)  TCP echo · RMI echo · JCircuit runtime with "echo"
 *     │     stdout: BENCH-PORTS tcp=… rmi=… circuit=…
 *     └─ client JVM (BenchClient)  TcpProbe → RMI → CircuitProbe, one after another
 *           stdout: BENCH-RESULT {"tcp_rtt_p50_us":…, …}
 * </pre>
 *
 * Children print only protocol lines on stdout ({@link io.jcircuit.bench.ChildStdio}); the
 * orchestrator ignores any other line, keeps a tail of stderr for error messages, and destroys both
 * children when a pass ends however it ends. Round trips are timed one by one with
 * {@code System.nanoTime} and sorted for percentiles; rates count completions over a steady-state
 * window after a warm-up window. Nothing here uses JMH.
 */
package io.jcircuit.bench;
