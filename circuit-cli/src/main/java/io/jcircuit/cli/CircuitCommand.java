package io.jcircuit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code circuit} command. Its subcommands form the table that {@code --help} is generated from;
 * a command that is not registered here does not exist.
 */
@Command(
    name = "circuit",
    mixinStandardHelpOptions = true,
    versionProvider = CircuitCommand.Version.class,
    description = "JCircuit: one Java program describes a whole distributed system.",
    subcommands = {
        DemoCommand.class,
        RunCommand.class,
        DeployCommand.class,
        KeygenCommand.class,
        StartCommand.class,
        HostsCommand.class,
        StopCommand.class,
        ClearCommand.class,
        LsCommand.class,
        DlsCommand.class,
        PeekCommand.class,
        TopCommand.class,
        FlowCommand.class,
        StackCommand.class,
        ProfileCommand.class,
        HeapCommand.class,
        LogCommand.class,
        SetCommand.class,
        GetCommand.class,
        DrainCommand.class,
        KillCommand.class,
        SwapCommand.class,
        ConsoleCommand.class,
        BenchCommand.class,
        picocli.AutoComplete.GenerateCompletion.class,
        CommandLine.HelpCommand.class,
    })
public final class CircuitCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The command line with JCircuit's error handling, ready to execute. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new CircuitCommand());
        // everything after APP.jar and MAIN is the program's own: "run app.jar Main --verbose" passes --verbose on
        cl.getSubcommands().get("run").setStopAtPositional(true);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            PrintWriter err = line.getErr();
            // the whole command path: "circuit demo swap: ...", not "circuit swap: ..." (another verb)
            err.println(line.getCommandSpec().qualifiedName() + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Version from the jar manifest, or the build's when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = CircuitCommand.class.getPackage().getImplementationVersion();
            return new String[] {"JCircuit " + (v == null ? "(development build)" : v)
                + " on Java " + Runtime.version()};
        }
    }
}
