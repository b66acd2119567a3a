package io.jcircuit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code circuit} command. Its subcommands, {@link #commands}, form the table that {@code --help} is
 * generated from; a command that is not registered there does not exist.
 */
@Command(
    name = "circuit",
    mixinStandardHelpOptions = true,
    versionProvider = CircuitCommand.Version.class,
    description = "JCircuit: one Java program describes a whole distributed system.")
public final class CircuitCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * The subcommands, in the order of {@code --help}'s table. A method, not a constant: a class literal loads its
     * class when it runs, and a command that runs alone ({@link #commandLine(String[])}) needs only its own.
     */
    static java.util.List<Class<?>> commands() {
        return java.util.List.of(
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
            DresealCommand.class,
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
            CommandLine.HelpCommand.class);
    }

    /** The command line with every subcommand and JCircuit's error handling, ready to execute. */
    public static CommandLine commandLine() {
        return commandLine(commands());
    }

    /**
     * The command line for {@code args}: with the one subcommand they start with, or none for a version; else
     * (help, a name that is no command, the completion script) with all of them. Picocli builds the model of
     * each registered command by reflection, in the interpreter of a JVM that has just started, and loading the
     * classes of the whole table alone took longer than a command's own work: {@code circuit ls /} took 0.90-1.06
     * s with the whole table and 0.79-0.86 s with its own command (a JVM run directly, alternated six times).
     */
    public static CommandLine commandLine(String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            return commandLine(java.util.List.of());
        }
        Class<?> one = args.length == 0 ? null : byName(args[0]);
        return commandLine(one == null ? commands() : java.util.List.of(one));
    }

    /**
     * The command of this name, but {@code help} and the completion script, which work on the whole table; null
     * for those and for a name that is no command. A switch, not a look at the annotations, so that only the
     * class named is loaded; {@code CircuitCommandTest} checks it against {@link #commands}.
     */
    static Class<?> byName(String name) {
        return switch (name) {
            case "demo" -> DemoCommand.class;
            case "run" -> RunCommand.class;
            case "deploy" -> DeployCommand.class;
            case "keygen" -> KeygenCommand.class;
            case "start" -> StartCommand.class;
            case "hosts" -> HostsCommand.class;
            case "stop" -> StopCommand.class;
            case "clear" -> ClearCommand.class;
            case "ls" -> LsCommand.class;
            case "dls" -> DlsCommand.class;
            case "dreseal" -> DresealCommand.class;
            case "peek" -> PeekCommand.class;
            case "top" -> TopCommand.class;
            case "flow" -> FlowCommand.class;
            case "stack" -> StackCommand.class;
            case "profile" -> ProfileCommand.class;
            case "heap" -> HeapCommand.class;
            case "log" -> LogCommand.class;
            case "set" -> SetCommand.class;
            case "get" -> GetCommand.class;
            case "drain" -> DrainCommand.class;
            case "kill" -> KillCommand.class;
            case "swap" -> SwapCommand.class;
            case "console" -> ConsoleCommand.class;
            case "bench" -> BenchCommand.class;
            default -> null;
        };
    }

    private static CommandLine commandLine(java.util.List<Class<?>> commands) {
        CommandLine cl = new CommandLine(new CircuitCommand());
        for (Class<?> command : commands) {
            cl.addSubcommand(command); // named by its @Command, made by picocli as the annotation's list did
        }
        versionEverywhere(cl); // each verb's --help offers -V, --version: it prints what circuit --version does
        CommandLine run = cl.getSubcommands().get("run");
        if (run != null) {
            // everything after APP.jar and MAIN is the program's own: "run app.jar Main --verbose" passes --verbose on
            run.setStopAtPositional(true);
        }
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

    private static void versionEverywhere(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommandSpec().version().length == 0) {
                sub.getCommandSpec().versionProvider(new Version());
            }
            versionEverywhere(sub);
        }
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
