/**
 * {@code bin/circuit bench}: JCircuit measured beside raw TCP and Java RMI in one run, and its spawns
 * beside a hello-world JVM start (DESIGN §8).
 *
 * <pre>
 *   orchestrator (Bench, in the CLI's JVM)
 *     │ for each call pass: unpinned, then taskset -c 0
 *     ├─ server JVM (BenchServer)  TCP echo · RMI echo · JCircuit runtime with "echo"
 *     │     stdout: BENCH-PORTS tcp=… rmi=… circuit=…
 *     ├─ client JVM (BenchClient)  TcpProbe → RMI → CircuitProbe, one after another
 *     │     stdout: BENCH-RESULT {"tcp_rtt_p50_us":…, …}
 *     │ then once, unpinned: the spawn pass
 *     └─ spawner JVM (BenchSpawner)  SpawnProbe: host daemons (embedded ZooKeeper) and a spawner runtime
 *           ├─ worker JVMs, warm JVMs (started by the hosts) · hello-world JVMs (JvmHello)
 *           stdout: BENCH-NOTE … then BENCH-RESULT {"jvm_hello_ms":…, "spawn_cold_p50_ms":…, …}
 * </pre>
 *
 * Children print only protocol lines on stdout ({@link io.jcircuit.bench.ChildStdio}); the
 * orchestrator ignores any other line, keeps a tail of stderr for error messages, and destroys the
 * children (and the spawner's own children) when a pass ends however it ends. Round trips and spawns
 * are timed one by one with {@code System.nanoTime} and sorted for percentiles; rates count
 * completions over a steady-state window after a warm-up window. Nothing here uses JMH.
 */
package io.jcircuit.bench;
