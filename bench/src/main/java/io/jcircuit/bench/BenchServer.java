package io.jcircuit.bench;

import io.jcircuit.runtime.CircuitRuntime;

import java.io.PrintStream;

/**
 * The server child: a raw TCP echo server, an RMI echo and a JCircuit runtime publishing
 * {@link Echo}, all on loopback. It prints one {@link #PORTS_PREFIX} line with its {@link Endpoints}
 * on stdout, serves until its stdin ends, then exits 0 (1 when it could not start).
 *
 * <p>Run by the orchestrator as {@code java ... io.jcircuit.bench.BenchServer}; it takes no arguments.
 */
public final class BenchServer {

    static final String PORTS_PREFIX = "BENCH-PORTS ";

    private BenchServer() {
    }

    public static void main(String[] args) {
        PrintStream protocol = ChildStdio.claimStdout();
        int code = 1;
        try (TcpEchoServer tcp = TcpEchoServer.start();
             RmiServerSide rmi = RmiServerSide.start();
             CircuitRuntime runtime = CircuitRuntime.start();
             CircuitRuntime bare = CircuitRuntime.start(io.jcircuit.runtime.RuntimeConfig.builder().callMetrics(false).build())) {
            runtime.listen(CircuitProbe.SERVICE, Echo.class, new EchoService());
            bare.listen(CircuitProbe.SERVICE, Echo.class, new EchoService());
            protocol.println(PORTS_PREFIX + new Endpoints(tcp.port(), rmi.encodedStub(), runtime.address(), bare.address()).toLine());
            protocol.flush();
            ChildStdio.awaitStdinEnd();
            code = 0;
        } catch (Throwable t) {
            System.err.println("bench server failed:");
            t.printStackTrace();
        }
        System.exit(code);
    }

    /** Echoes its argument; runs on the runtime's virtual threads. */
    private static final class EchoService implements Echo {
        private final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public String echo(String s) {
            return s;
        }

        @Override
        public java.util.concurrent.CompletableFuture<String> echoAsync(String s) {
            return java.util.concurrent.CompletableFuture.completedFuture(s);
        }

        @Override
        public io.jcircuit.Chan<Integer> sink() {
            io.jcircuit.Chan<Integer> c = io.jcircuit.Circuit.current().makeChan(io.jcircuit.Chan.BATCH * 4);
            Thread.ofVirtual().name("bench-chan-consumer").start(() -> {
                for (Integer ignored : c) {
                    received.incrementAndGet();
                }
            });
            return c;
        }

        @Override
        public long received() {
            return received.get();
        }

        @Override
        public long compileMillis() {
            return Loops.compileMillis();
        }
    }
}
