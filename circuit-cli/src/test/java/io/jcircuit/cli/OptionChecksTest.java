package io.jcircuit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Options that are refused before anything is asked of the circuit. A value out of its range: one line that
 * names the option, exit 1. Two options that exclude each other, or one without the option it needs: the
 * line and the usage, exit 2, as for a command line that does not parse (the README; a probe found these
 * with exit 1 and no usage while picocli's own exclusive groups gave 2). No ZooKeeper is there to answer (an
 * empty state directory), so a check that came later would say that instead.
 */
class OptionChecksTest {

    @TempDir
    Path empty;

    private CliRun.Result run(String... args) {
        return CliRun.run(Map.of("CIRCUIT_DIR", empty.toString()), args);
    }

    private static void refused(CliRun.Result r, String line) {
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo(line);
    }

    /** Refused as a command line that does not parse: {@code message}, then the usage of {@code verb}; exit 2. */
    private static void usage(CliRun.Result r, String verb, String message) {
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().lines().findFirst().orElse("")).contains(message);
        assertThat(r.err()).contains("Usage: circuit " + verb + " ");
    }

    @Test
    void killRefusesNegativeTimeoutAndWait() {
        // before: "deadline timeout must not be negative: PT-1S", after the worker was looked up; --wait -1 was accepted
        refused(run("kill", "--timeout", "-1", "R0123456789abcdef"), "circuit kill: --timeout must be 0 or more seconds, not -1");
        refused(run("kill", "--wait", "-1", "R0123456789abcdef"), "circuit kill: --wait must be 0 or more seconds, not -1");
        // before: accepted, and the worker exited with 44 (300's low 8 bits)
        refused(run("kill", "--status", "300", "R0123456789abcdef"),
            "circuit kill: --status must be 0 to 255 (a process's exit status keeps only the low 8 bits), not 300");
    }

    @Test
    void killRefusesWhatItWouldAskOfTheWorkerWithForce() {
        // before: accepted; the host's SIGKILL left exit status 137, not the 3 asked for, and no drain ran
        usage(run("kill", "--force", "--status", "3", "R0123456789abcdef"), "kill",
            "--status is asked of the worker, and --force asks it nothing: its host kills it (SIGKILL, exit status 137). "
                + "Give one or the other");
        usage(run("kill", "--force", "--drain", "5", "R0123456789abcdef"), "kill",
            "--drain is asked of the worker, and --force asks it nothing: its host kills it (SIGKILL). Give one or the other");
    }

    @Test
    void runRefusesWithLocalTheOptionsOfACircuitToJoin() {
        // before: --zookeeper, --key, --dir and --insecure were ignored with --local, and the program ran on a throw-away circuit
        String local = " for joining a circuit; with --local the program has a circuit of its own (an embedded ZooKeeper in a "
            + "temporary directory, on loopback, no key): give --local or ";
        usage(run("run", "--local", "--zookeeper", "10.0.0.5:2181", "app.jar"), "run",
            "--zookeeper is" + local + "--zookeeper, not both");
        usage(run("run", "--local", "--key", "k", "--dir", "d", "--insecure", "app.jar"), "run",
            "--key, --dir, --insecure are" + local + "--key, --dir, --insecure, not both");
    }

    @Test
    void heapChecksTopOnceAndLiveWithoutDump() {
        // before: each worker refused --top 0 on its own, one line per worker
        refused(run("heap", "--top", "0", "/app/..."), "circuit heap: --top must be at least 1, not 0");
        usage(run("heap", "--live", "/app/..."), "heap", "--live needs --dump: it makes the heap dump hold only reachable objects");
        // before: accepted, and --top was ignored
        usage(run("heap", "--top", "5", "--dump", "x.hprof", "/app/R0123456789abcdef"), "heap",
            "--top sets the rows of the histogram; a heap dump (--dump) has no rows");
    }

    @Test
    void anEmptyZooKeeperFlagIsRefusedNotPassedOver() {
        // before: quietly fell back to $CIRCUIT_ZOOKEEPER, then the state directory's connect file
        refused(run("ls", "--zookeeper", "", "/"), "circuit ls: --zookeeper is empty: give host:port[,host:port...], or leave it"
            + " out to use $CIRCUIT_ZOOKEEPER or the state directory's connect file");
    }

    @Test
    void logRefusesForWithoutFollow() {
        usage(run("log", "--for", "1", "/app/..."), "log", "--for needs -f: it says when to stop following");
    }

    @Test
    void theVerbsThatWaitForWorkersRefuseATimeoutBelowOneSecond() {
        for (String verb : java.util.List.of("peek", "top", "flow", "stack", "log", "get")) {
            refused(run(verb, "--timeout", "0", "/app/..."), "circuit " + verb + ": --timeout must be at least 1 second, not 0");
        }
        refused(run("set", "--timeout", "-2", "/app/...", "a=b"), "circuit set: --timeout must be at least 1 second, not -2");
        // --stdout reads the worker's file through its host: no worker is waited for
        usage(run("log", "--stdout", "--timeout", "3", "R0123456789abcdef"), "log",
            "--timeout is how long the workers are waited for; --stdout asks their hosts (within 10 s each)");
    }

    @Test
    void optionsThatExcludeEachOtherGetTheUsage() {
        usage(run("heap", "--histo", "--dump", "x.hprof", "/app/R0123456789abcdef"), "heap", "give --histo or --dump, not both");
        usage(run("log", "--stdout", "--stderr", "R0123456789abcdef"), "log", "give --stdout or --stderr, not both");
        usage(run("deploy", "--list", "--remove", "app:1"), "deploy", "give --list or --remove, not both");
        usage(run("profile", "--cpu", "--alloc", "R0123456789abcdef"), "profile", "mutually exclusive");
    }

    @Test
    void demoSwapNamesItselfAndTheOption() {
        // before: "circuit swap: give 1 to 16 shards and 1 to 256 clients", the name of another verb
        refused(run("demo", "swap", "--shards", "0"), "circuit demo swap: --shards 0: give 1 to 16");
        refused(run("demo", "swap", "--clients", "300"), "circuit demo swap: --clients 300: give 1 to 256");
    }
}
