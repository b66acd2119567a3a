package io.jcircuit;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link Circuit#exec} runs.
 *
 * @param command the program and its arguments
 * @param env     extra environment variables
 * @param dir     the working directory on the host, or null for the host's own directory of the process
 * @param anchor  the anchor directory under which the process is listed while it runs, or null
 * <p>A process whose output goes to a sink writes it into a pipe that its host's process reads: once
 * that process has exited (the host stopped, or killed), the process's next write to that stream gets
 * SIGPIPE, which ends it. Only a process whose output goes to files outlives its host.
 *
 * @param stdout  where its standard output goes (a reference), or null to keep it in a file on the host
 * @param stderr  where its standard error goes (a reference), or null to keep it in a file on the host
 */
public record ExecSpec(List<String> command, Map<String, String> env, String dir, String anchor,
                       OutputSink stdout, OutputSink stderr) {

    public ExecSpec {
        Objects.requireNonNull(command, "command");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("the command is empty");
        }
        command = List.copyOf(command);
        env = Map.copyOf(env);
    }

    /** Runs {@code command} with nothing else set. */
    public static ExecSpec of(String... command) {
        return new ExecSpec(List.of(command), Map.of(), null, null, null, null);
    }

    public ExecSpec withEnv(Map<String, String> vars) {
        return new ExecSpec(command, vars, dir, anchor, stdout, stderr);
    }

    public ExecSpec inDir(String directory) {
        return new ExecSpec(command, env, directory, anchor, stdout, stderr);
    }

    public ExecSpec listedUnder(String anchorDir) {
        return new ExecSpec(command, env, dir, anchorDir, stdout, stderr);
    }

    public ExecSpec output(OutputSink out, OutputSink err) {
        return new ExecSpec(command, env, dir, anchor, out, err);
    }
}
