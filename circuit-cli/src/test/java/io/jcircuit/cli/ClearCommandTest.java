package io.jcircuit.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code circuit clear} on worker directories made the way a host leaves them. */
class ClearCommandTest {

    private static final String ENDED = "R00000000000000a1";
    private static final String KILLED = "R00000000000000a2";
    private static final String RUNNING = "R00000000000000b1";
    private static final String ALIVE = "R00000000000000b2";
    private static final String GONE = "R00000000000000a3";
    private static final String REUSED = "R00000000000000a4";

    @TempDir
    Path state;
    private Path workers;

    @BeforeEach
    void fabricateWorkers() throws IOException {
        workers = state.resolve("workers");
        worker(ENDED, "0");
        worker(KILLED, "137");
        worker(RUNNING, null);
        ProcessHandle self = ProcessHandle.current();
        long selfStart = self.info().startInstant().orElseThrow().toEpochMilli();
        pidFile(worker(ALIVE, null), self.pid() + " " + selfStart);
        pidFile(worker(REUSED, null), self.pid() + " " + (selfStart - 3_600_000)); // the id, but an hour older
        pidFile(worker(GONE, null), ended.pid() + " " + endedStart);
        Files.writeString(workers.resolve("notes.txt"), "not a worker");
        Files.createDirectories(workers.resolve("scratch"));
        Files.writeString(workers.resolve("scratch").resolve("exit"), "0");
    }

    private static ProcessHandle ended;
    private static long endedStart;

    /** A process that has run and ended, to name in a pid file. */
    @BeforeAll
    static void runAProcessToItsEnd() throws Exception {
        Process p = new ProcessBuilder("cat").redirectOutput(ProcessBuilder.Redirect.DISCARD).start(); // ends with its stdin
        ended = p.toHandle();
        endedStart = ended.info().startInstant().orElseThrow().toEpochMilli();
        p.getOutputStream().close();
        assertThat(p.waitFor()).isZero();
    }

    private static void pidFile(Path dir, String content) throws IOException {
        Files.writeString(dir.resolve("pid"), content + "\n");
    }

    /** A worker directory as a host makes it: spawn metadata, output, and {@code exit} once it ended. */
    private Path worker(String id, String exitStatus) throws IOException {
        Path d = Files.createDirectories(workers.resolve(id));
        Files.writeString(d.resolve("spawn.properties"), "id=" + id + "\n");
        Files.writeString(d.resolve("stdout"), "out\n");
        Files.writeString(d.resolve("stderr"), "");
        Files.createDirectories(d.resolve("tmp").resolve("deeper"));
        Files.writeString(d.resolve("tmp").resolve("deeper").resolve("f"), "x");
        if (exitStatus != null) {
            Files.writeString(d.resolve("exit"), exitStatus + "\n");
        }
        return d;
    }

    /** Process directories as a host leaves them under {@code procs/}: ended ones go, others stay. */
    @Test
    void shouldAlsoRemoveTheDirectoriesOfProcessesThatEnded() throws IOException {
        Path procs = state.resolve("procs");
        Path exited = Files.createDirectories(procs.resolve("proc-1"));
        Files.writeString(exited.resolve("exit"), "3\n");
        Path gone = Files.createDirectories(procs.resolve("proc-2"));
        pidFile(gone, ended.pid() + " " + endedStart);
        Path alive = Files.createDirectories(procs.resolve("proc-3"));
        ProcessHandle self = ProcessHandle.current();
        pidFile(alive, self.pid() + " " + self.info().startInstant().orElseThrow().toEpochMilli());
        Path older = Files.createDirectories(procs.resolve("proc-4")); // a build before pid files, still running
        Path other = Files.createDirectories(procs.resolve("kept"));
        Files.writeString(other.resolve("exit"), "0\n");

        CliRun.Result r = CliRun.run("clear", "--dir", state.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines()).contains("removed " + exited + " (exit status 3)",
            "removed " + gone + " (process " + ended.pid() + " ended; no exit status was recorded)");
        assertThat(exited).doesNotExist();
        assertThat(gone).doesNotExist();
        assertThat(alive).isDirectory();
        assertThat(older).isDirectory();
        assertThat(other).isDirectory();
        // named workers only: processes are cleared with the rest
        CliRun.Result named = CliRun.run("clear", "--dir", state.toString(), ENDED);
        assertThat(named.out()).doesNotContain("proc-");
    }

    @Test
    void shouldRemoveOnlyTheWorkersThatEnded() {
        CliRun.Result r = CliRun.run("clear", "--dir", state.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines()).containsExactly(
            "removed " + workers.resolve(ENDED) + " (exit status 0)",
            "removed " + workers.resolve(KILLED) + " (exit status 137)",
            "removed " + workers.resolve(GONE) + " (process " + ended.pid() + " ended; no exit status was recorded)",
            "removed " + workers.resolve(REUSED) + " (process " + ProcessHandle.current().pid() + " ended; no exit status was recorded)");
        assertThat(workers.resolve(ENDED)).doesNotExist();
        assertThat(workers.resolve(KILLED)).doesNotExist();
        assertThat(workers.resolve(GONE)).doesNotExist();
        assertThat(workers.resolve(REUSED)).doesNotExist();
        assertThat(workers.resolve(RUNNING)).isDirectory();
        assertThat(workers.resolve(ALIVE)).isDirectory();
        assertThat(workers.resolve(RUNNING).resolve("stdout")).hasContent("out");
        assertThat(workers.resolve("notes.txt")).exists();
        assertThat(workers.resolve("scratch").resolve("exit")).exists();

        CliRun.Result again = CliRun.run("clear", "--dir", state.toString());
        assertThat(again.out().strip()).isEqualTo("nothing to clear in " + workers
            + " (2 worker(s) that may still run kept)");
    }

    @Test
    void shouldFindTheStateDirectoryThroughTheEnvironment() {
        CliRun.Result r = CliRun.run(Map.of("CIRCUIT_DIR", state.toString()), "clear", ENDED);

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("removed " + workers.resolve(ENDED) + " (exit status 0)");
        assertThat(workers.resolve(KILLED)).isDirectory();
    }

    @Test
    void shouldKeepANamedWorkerThatMayStillRunAndSaySo() {
        CliRun.Result r = CliRun.run("clear", "--dir", state.toString(), RUNNING, KILLED, ALIVE);

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out().strip()).isEqualTo("removed " + workers.resolve(KILLED) + " (exit status 137)");
        assertThat(r.err()).contains("kept " + workers.resolve(RUNNING)).contains("kept " + workers.resolve(ALIVE))
            .contains("may still run");
        assertThat(workers.resolve(RUNNING)).isDirectory();
        assertThat(workers.resolve(ALIVE)).isDirectory();
    }

    /** One worker named twice, once in capitals: one directory, removed once, and a success. */
    @Test
    void shouldClearAWorkerNamedTwiceOnceAndSucceed() {
        CliRun.Result r = CliRun.run("clear", "--dir", state.toString(), ENDED, ENDED.toUpperCase());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out().strip()).isEqualTo("removed " + workers.resolve(ENDED) + " (exit status 0)");
        assertThat(workers.resolve(ENDED)).doesNotExist();
    }

    @Test
    void shouldRemoveNothingWhenANamedWorkerIsUnknown() {
        CliRun.Result r = CliRun.run("clear", "--dir", state.toString(), ENDED, "R00000000000000ff");

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no worker directory for R00000000000000ff in " + workers).contains("nothing removed");
        assertThat(workers.resolve(ENDED)).isDirectory();

        CliRun.Result bad = CliRun.run("clear", "--dir", state.toString(), "scratch");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("not a worker id: 'scratch'");
        assertThat(workers.resolve("scratch")).isDirectory();
    }

    @Test
    void shouldSayPlainlyWhenTheStateDirectoryIsAFile() throws IOException {
        Path file = Files.writeString(state.resolve("a-file"), "not a directory");

        CliRun.Result flag = CliRun.run("clear", "--dir", file.toString());
        assertThat(flag.code()).isEqualTo(1);
        assertThat(flag.err().strip()).isEqualTo("circuit clear: the state directory " + file + " (--dir) is not a directory");

        CliRun.Result env = CliRun.run(Map.of("CIRCUIT_DIR", file.toString()), "hosts");
        assertThat(env.code()).isEqualTo(1);
        assertThat(env.err().strip()).isEqualTo("circuit hosts: the state directory " + file + " ($CIRCUIT_DIR) is not a directory");
    }

    @Test
    void shouldSayThereIsNothingToClearInAFreshStateDirectory(@TempDir Path fresh) {
        CliRun.Result r = CliRun.run("clear", "--dir", fresh.toString());

        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).isEqualTo("nothing to clear in " + fresh.resolve("workers"));
    }
}
