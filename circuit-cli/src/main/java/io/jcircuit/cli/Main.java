package io.jcircuit.cli;

import picocli.CommandLine;

/** Entry point of {@code bin/circuit}. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(CircuitCommand.commandLine().execute(args));
    }
}
