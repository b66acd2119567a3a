package io.jcircuit.cli;

import picocli.CommandLine;

/** Entry point of {@code bin/circuit}. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        // what this process's spawns on a deployment (swap, demo swap) ship beside the deployment's jar
        System.setProperty(io.jcircuit.runtime.host.Deployment.RUNTIME_CLASSPATH_PROPERTY, RuntimeJars.classpath());
        System.exit(CircuitCommand.commandLine(args).execute(args));
    }
}
