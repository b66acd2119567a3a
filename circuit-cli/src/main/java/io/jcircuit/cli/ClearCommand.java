package io.jcircuit.cli;

import io.jcircuit.WorkerId;
import io.jcircuit.host.WorkerDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code circuit clear}: removes the directories of workers that have ended. Works on the local
 * state directory alone; needs no ZooKeeper.
 */
@Command(name = "clear", mixinStandardHelpOptions = true,
    description = {"Remove the directories of workers that have ended, under STATE_DIR/workers, and of processes "
        + "(Circuit.exec) that have ended, under STATE_DIR/procs.",
        "A worker has ended when its directory holds an 'exit' file, which its host writes when the process ends, "
            + "or when the process named in its 'pid' file (id and start time) no longer runs: so are a daemonized "
            + "worker that outlived its host, and the workers of a host that was killed. Any other directory is never "
            + "touched: its worker may still run.",
        "With WORKER_IDs, clears those and fails on any that has not ended; without, clears every ended worker and process."})
final class ClearCommand implements Callable<Integer> {

    @Option(names = "--dir", paramLabel = "STATE_DIR",
        description = "State directory of the host(s) whose workers to clear. Default: $CIRCUIT_DIR or ~/.jcircuit.")
    Path dir;

    @Parameters(paramLabel = "WORKER_ID", arity = "0..*",
        description = "Workers to clear (R and 16 hex digits). Default: every worker that has ended.")
    List<String> ids = new ArrayList<>();

    Map<String, String> env = System.getenv();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path workers = NamespaceOptions.stateDir(dir, env).resolve("workers");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Path> candidates = ids.isEmpty() ? allIn(workers) : named(workers);
        int removed = 0;
        List<Path> running = new ArrayList<>();
        for (Path w : candidates) {
            Optional<String> end = WorkerDir.end(w);
            if (end.isPresent()) {
                deleteTree(w);
                out.println("removed " + w + " (" + end.get() + ")");
                removed++;
            } else {
                running.add(w);
            }
        }
        if (ids.isEmpty()) {
            for (Path d : procsIn(NamespaceOptions.stateDir(dir, env).resolve("procs"))) {
                Optional<String> end = WorkerDir.end(d);
                if (end.isPresent()) {
                    deleteTree(d);
                    out.println("removed " + d + " (" + end.get() + ")");
                    removed++;
                }
            }
        }
        if (!ids.isEmpty() && !running.isEmpty()) {
            for (Path w : running) {
                err.println("circuit clear: kept " + w + ": its worker may still run (no '" + WorkerDir.EXIT
                    + "' file, and its '" + WorkerDir.PID + "' file names a running process or is missing)");
            }
            out.flush();
            return 1;
        }
        if (removed == 0) {
            out.println("nothing to clear in " + workers
                + (running.isEmpty() ? "" : " (" + running.size() + " worker(s) that may still run kept)"));
        }
        out.flush();
        return 0;
    }

    /** Every worker directory under {@code workers}; other files and names are left alone. */
    private static List<Path> allIn(Path workers) {
        List<Path> all = new ArrayList<>();
        if (!Files.isDirectory(workers)) {
            return all;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(workers)) {
            for (Path p : ds) {
                if (WorkerId.looksLikeWorkerId(p.getFileName().toString()) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    all.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the worker directories in " + workers + ": " + e.getMessage(), e);
        }
        all.sort(null);
        return all;
    }

    /**
     * The directories of processes under {@code procs}; other names are left alone. One of a build before
     * 2026-12 has no pid file, and is kept until its host writes its exit file (it may run).
     */
    private static List<Path> procsIn(Path procs) {
        List<Path> all = new ArrayList<>();
        if (!Files.isDirectory(procs)) {
            return all;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(procs, "proc-*")) {
            for (Path p : ds) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    all.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the process directories in " + procs + ": " + e.getMessage(), e);
        }
        all.sort(null);
        return all;
    }

    /**
     * The directories of the workers named on the command line, each once however often (and in whichever
     * case) it is named; fails before removing anything if one is missing.
     */
    private List<Path> named(Path workers) {
        List<Path> dirs = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        Set<WorkerId> seen = new HashSet<>();
        for (String id : ids) {
            WorkerId worker = WorkerId.parse(id);
            if (!seen.add(worker)) {
                continue; // named twice: one directory, and the second look would find it removed by the first
            }
            Path w = workers.resolve(worker.toString());
            if (Files.isDirectory(w, LinkOption.NOFOLLOW_LINKS)) {
                dirs.add(w);
            } else {
                missing.add(id);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("no worker directory for " + String.join(", ", missing) + " in " + workers
                + "; nothing removed. Is --dir (or $CIRCUIT_DIR) the state directory of their host?");
        }
        return dirs;
    }

    /** Removes {@code root} and everything below it, without following symbolic links. */
    private static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the worker directory " + root + ": " + e, e);
        }
    }
}
