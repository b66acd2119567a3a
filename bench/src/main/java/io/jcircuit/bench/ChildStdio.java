package io.jcircuit.bench;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The standard streams of a child JVM. Its stdout carries only protocol lines for the orchestrator;
 * everything else (logging, library warnings) goes to stderr, whose tail the orchestrator shows when
 * the child fails.
 */
final class ChildStdio {

    /** Exit code of a child whose orchestrator went away. */
    static final int PARENT_GONE = 3;

    private ChildStdio() {
    }

    /**
     * Takes stdout for protocol lines and points {@link System#out} at stderr, then turns logging down
     * to warnings. Call first thing in a child's {@code main}, before any logger exists.
     */
    static PrintStream claimStdout() {
        PrintStream protocol = System.out;
        System.setOut(System.err);
        quietLogback();
        return protocol;
    }

    /**
     * Exits the JVM with {@link #PARENT_GONE} once stdin ends, which happens when the orchestrator
     * closes it or dies, so that no child outlives its bench.
     */
    static void exitWhenStdinEnds() {
        Thread.ofPlatform().daemon().name("bench-parent-watch").start(() -> {
            awaitStdinEnd();
            System.exit(PARENT_GONE);
        });
    }

    /** Blocks until stdin ends. */
    static void awaitStdinEnd() {
        try {
            System.in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            // a broken stdin means the orchestrator is gone, the same as its end
        }
    }

    /**
     * Logback without a configuration file logs DEBUG to the console, which would bury a failing
     * child's stderr tail in start-up chatter. The bench does not compile against logback (the CLI
     * brings it), so the root level is set reflectively; any other SLF4J backend is left alone.
     */
    private static void quietLogback() {
        Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        try {
            Class<?> level = Class.forName("ch.qos.logback.classic.Level", true, root.getClass().getClassLoader());
            root.getClass().getMethod("setLevel", level).invoke(root, level.getField("WARN").get(null));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            // not logback: its own configuration applies
        }
    }
}
