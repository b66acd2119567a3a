package io.jcircuit.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/**
 * Runs {@code circuit} commands in-process, with {@code env} in place of the process environment for
 * every command that reads it, so that a {@code CIRCUIT_ZOOKEEPER} or {@code CIRCUIT_DIR} set where
 * the tests run changes nothing.
 */
final class CliRun {

    /** What a command printed and returned. */
    record Result(int code, String out, String err) {
    }

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final CommandLine cl;

    private CliRun(Map<String, String> env) {
        cl = CircuitCommand.commandLine();
        for (CommandLine sub : cl.getSubcommands().values()) {
            switch (sub.getCommand()) {
                case LsCommand c -> c.where.env = env;
                case DlsCommand c -> c.where.env = env;
                case HostsCommand c -> c.where.env = env;
                case StopCommand c -> c.where.env = env;
                case StartCommand c -> c.env = env;
                case ClearCommand c -> c.env = env;
                case RunCommand c -> c.env = env;
                case KeygenCommand c -> c.env = env;
                default -> {
                    // the ops verbs: every command with NamespaceOptions reads the environment through it
                    for (Class<?> c = sub.getCommand().getClass(); c != Object.class; c = c.getSuperclass()) {
                        for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                            if (f.getType() == NamespaceOptions.class) {
                                try {
                                    f.setAccessible(true);
                                    ((NamespaceOptions) f.get(sub.getCommand())).env = env;
                                } catch (IllegalAccessException e) {
                                    throw new IllegalStateException(e);
                                }
                            }
                        }
                    }
                }
            }
        }
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
    }

    /** A command line whose output can be read while it runs, e.g. a {@code start} on another thread. */
    static CliRun with(Map<String, String> env) {
        return new CliRun(env);
    }

    static Result run(Map<String, String> env, String... args) {
        return with(env).execute(args);
    }

    static Result run(String... args) {
        return run(Map.of(), args);
    }

    Result execute(String... args) {
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** The output so far. */
    String out() {
        return out.toString();
    }

    /** The command line itself, e.g. for parsing options without running. */
    CommandLine commandLine() {
        return cl;
    }
}
