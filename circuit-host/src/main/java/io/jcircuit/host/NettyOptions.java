package io.jcircuit.host;

import java.util.List;

/**
 * Netty's system properties for the JVMs JCircuit starts: the workers and warm JVMs a host starts, the
 * launcher's own JVM ({@code bin/circuit}, which passes the same in shell) and the bench's child JVMs.
 * Options given after them (a spawn's {@code SpawnOptions.withJvmArgs}, {@code CIRCUIT_JAVA_OPTS}) win,
 * so each can be turned back on. A program that embeds a runtime in a JVM of its own keeps Netty's
 * defaults: these are process-wide, and that JVM is not JCircuit's to set.
 *
 * <ul>
 *   <li>{@code io.netty.jfr.enabled=false}: Netty's allocators would load their JFR event classes at
 *       start (about 140, with JFR's own), 50-60 ms of every cold worker. A worker that wants Netty's
 *       allocation events in a recording passes {@code -Dio.netty.jfr.enabled=true}.</li>
 *   <li>{@code io.netty.leakDetection.level=disabled}: the leak detector samples one buffer in 128 with
 *       a stack trace, and every message passing a handler is "touched" for it. With 8 callers on one
 *       CPU it cost about a tenth of the calls (67-68 k calls/s with it, 73-75 k without, alternated
 *       twice; docs/performance.md), and what it finds is a log line in a worker's stderr that nothing
 *       reads. The runtime's own tests track every buffer in their JVM and fail on a leak
 *       ({@code circuit-leakguard}). To look for a leak in a worker, pass
 *       {@code -Dio.netty.leakDetection.level=paranoid}.</li>
 * </ul>
 * Netty's buffer access checks ({@code io.netty.buffer.checkAccessible}, {@code checkBounds}) stay on:
 * off, they bought another 5 % there, and a buffer read after its release would read whatever took its
 * memory instead of failing.
 */
public final class NettyOptions {

    /** The options, in the order they are given. */
    public static final List<String> FOR_STARTED_JVMS = List.of(
        "-Dio.netty.jfr.enabled=false", "-Dio.netty.leakDetection.level=disabled");

    private NettyOptions() {
    }
}
