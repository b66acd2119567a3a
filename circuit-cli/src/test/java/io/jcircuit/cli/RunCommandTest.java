package io.jcircuit.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code circuit run}: a program in a JVM of its own, as a client of a circuit. */
class RunCommandTest {

    /** The examples on this test's classpath: a jar in a packaged build, classes in the reactor. */
    private static String examples() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(p -> p.contains("examples")).findFirst().orElseThrow();
    }

    @Test
    @Tag("slow")
    void runsTheSpawnExampleInACircuitOfItsOwnAndLeavesNoProcessBehind() {
        CliRun.Result r = CliRun.run("run", "--local", examples(), "io.jcircuit.examples.hello.HelloSpawn", "tester");
        assertThat(r.code()).as(r.err()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.current().descendants()
            .noneMatch(p -> p.info().commandLine().orElse("").contains("io.jcircuit.runtime.host.WorkerMain")));
    }

    @Test
    void everythingAfterMainIsTheProgramsOptionsToo() {
        picocli.CommandLine cl = CircuitCommand.commandLine();
        picocli.CommandLine.ParseResult parsed = cl.parseArgs("run", "--local", "app.jar", "app.Main", "--verbose", "-h", "--local");
        RunCommand run = (RunCommand) parsed.subcommand().commandSpec().userObject();
        assertThat(run.local).isTrue();
        assertThat(run.main).isEqualTo("app.Main");
        assertThat(run.args).containsExactly("--verbose", "-h", "--local");
        assertThat(parsed.subcommand().isUsageHelpRequested()).isFalse();
    }

    @Test
    void aFileThatIsNotAJarIsNamedBeforeAnyJvmStarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path notAJar = java.nio.file.Files.writeString(dir.resolve("app.jar"), "not a zip");
        CliRun.Result r = CliRun.run("run", "--local", notAJar.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("circuit run: " + notAJar + " is not a readable jar");
    }

    @Test
    void aMainThatCannotBeRunIsNamedInOneLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // the JVM that 'circuit run' starts, run here with its stderr captured (run gives it the terminal)
        // exit status 1, as for every failure said in one line, 'no such jar' too (before: 2, which is for a
        // command line that does not parse)
        assertThat(runMain(dir, "io.jcircuit.examples.hello.NoSuchMain"))
            .isEqualTo("1 circuit run: no class io.jcircuit.examples.hello.NoSuchMain in " + examples());
        assertThat(runMain(dir, "java.lang.String"))
            .isEqualTo("1 circuit run: java.lang.String has no main(String[]) or main() that is not private");
        // and 'circuit run' exits with it
        assertThat(CliRun.run("run", "--local", examples(), "io.jcircuit.examples.hello.NoSuchMain").code()).isEqualTo(1);
        // a command line that does not parse: the usage, and 2
        CliRun.Result usage = CliRun.run("run", "--local");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("Missing required parameter").contains("Usage: circuit run");
    }

    /** A program that fails, as its first argument says: by throwing, or by exiting with a status of its own. */
    public static final class Fails {
        public static void main(String[] args) {
            if (args[0].equals("throw")) {
                throw new IllegalStateException("the program failed");
            }
            System.exit(Integer.parseInt(args[0]));
        }
    }

    @Test
    @Tag("slow")
    void runExitsWithTheProgramsStatus(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assertThat(runMainWith(dir, Fails.class.getName(), "throw")).startsWith("1 ")
            .contains("circuit run: " + Fails.class.getName() + ".main failed:")
            .contains("IllegalStateException: the program failed");
        assertThat(runMainWith(dir, Fails.class.getName(), "3")).startsWith("3 ");
    }

    /** Exit status and stderr of RunMain with {@code --local}, for the examples and {@code main}. */
    private static String runMain(java.nio.file.Path dir, String main) throws Exception {
        return runMainWith(dir, main);
    }

    /** Exit status and stderr of RunMain with {@code --local}, for the examples, {@code main} and its {@code args}. */
    private static String runMainWith(java.nio.file.Path dir, String main, String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
            java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), RunMain.class.getName(), "--local", dir.toString(), examples(), main));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        if (!p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("RunMain " + main + " did not end within 2 minutes");
        }
        return p.exitValue() + " " + err.get();
    }

    @Test
    @Tag("slow")
    void theProgramsRuntimeListensWhereAddrSays(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path said = dir.resolve("address");
        try (io.jcircuit.runtime.CircuitRuntime circuit = io.jcircuit.runtime.CircuitRuntime.start(
            io.jcircuit.runtime.RuntimeConfig.builder().embeddedZooKeeper(dir.resolve("state")).build())) {
            String zookeeper = circuit.embeddedZooKeeperConnectString().orElseThrow();
            // before: no --addr; the program always listened on 127.0.0.1, which workers it spawned on
            // other machines could not link back to
            CliRun.Result r = CliRun.run("run", "--zookeeper", zookeeper, "--addr", "127.0.0.2:0", testClasses(),
                SaysItsAddress.class.getName(), said.toString());
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(java.nio.file.Files.readString(said)).startsWith("127.0.0.2:").doesNotEndWith(":0");

            // beyond loopback without a key: the program's runtime refuses, in the words the other commands use
            assertThat(runMain(dir, zookeeper, "-D" + RunMain.ADDR_PROPERTY + "=10.1.2.3:0"))
                .startsWith("1 circuit run: the address 10.1.2.3 is not a loopback address").contains("--insecure");
        }
    }

    @Test
    void addrIsCheckedBeforeAnyJvmStarts() {
        CliRun.Result every = CliRun.run("run", "--addr", "0.0.0.0:0", examples());
        assertThat(every.code()).isEqualTo(1);
        assertThat(every.err()).startsWith("circuit run: --addr 0.0.0.0:0 listens on every interface");
        CliRun.Result local = CliRun.run("run", "--local", "--addr", "127.0.0.2:0", examples());
        assertThat(local.code()).isEqualTo(1);
        assertThat(local.err()).startsWith("circuit run: --addr is for joining a circuit");
    }

    /** This module's test classes: a directory, which 'circuit run' runs as it runs a jar. */
    private static String testClasses() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(p -> p.endsWith("test-classes")).findFirst().orElseThrow();
    }

    /** Writes the address its runtime listens on into the file it is given. */
    public static final class SaysItsAddress {
        public static void main(String[] args) throws Exception {
            java.nio.file.Files.writeString(java.nio.file.Path.of(args[0]), io.jcircuit.Circuit.current().address().toString());
        }
    }

    /** Exit status and stderr of RunMain joining {@code zookeeper}, with {@code option} for its JVM. */
    private static String runMain(java.nio.file.Path dir, String zookeeper, String option) throws Exception {
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            option, "-cp", System.getProperty("java.class.path"), RunMain.class.getName(), "--zookeeper", zookeeper,
            testClasses(), SaysItsAddress.class.getName(), dir.resolve("unused").toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        if (!p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("RunMain did not end within 2 minutes");
        }
        return p.exitValue() + " " + err;
    }

    /** A program as Java 25 lets one be written (JEP 512): an instance main without arguments. */
    public static final class InstanceMain {
        void main() {
            System.err.println("instance main ran in " + io.jcircuit.Circuit.current().id());
        }
    }

    @Test
    @Tag("slow")
    void runsAnInstanceMainAsJava25Does(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // before: "has no public main(String[])"
        assertThat(runMain(dir, InstanceMain.class.getName())).startsWith("0 ").contains("instance main ran in R");
    }

    /** A program whose main returns while a thread of its own still has workers to spawn. */
    public static final class WorkAfterMain {
        public static void main(String[] args) {
            io.jcircuit.Circuit circuit = io.jcircuit.Circuit.current();
            java.util.concurrent.CountDownLatch mainEnds = new java.util.concurrent.CountDownLatch(1);
            new Thread(() -> {
                try {
                    mainEnds.await(); // the work starts as main returns
                } catch (InterruptedException e) {
                    return;
                }
                int answer = 0;
                for (int i = 0; i < 2; i++) { // one after the other: the second starts after the first is back
                    answer += circuit.spawn(io.jcircuit.Circuit.ANY_HOST, java.util.List.of(), () -> 21).result();
                }
                System.err.println("after main: " + answer);
            }).start();
            mainEnds.countDown();
        }
    }

    @Test
    @Tag("slow")
    void waitsForTheProgramsOwnThreadsAsJavaDoes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // before: the runtime closed and the JVM exited when main returned, and the thread's spawn never answered
        assertThat(runMain(dir, WorkAfterMain.class.getName())).startsWith("0 ").endsWith("after main: 42");
    }

    /** A program that leaves a daemonized worker, says its pid, and runs until it is stopped. */
    public static final class DaemonThenForever {
        public static void main(String[] args) throws InterruptedException {
            long pid = io.jcircuit.Circuit.current().spawn(io.jcircuit.Circuit.ANY_HOST, java.util.List.of("/kept"),
                () -> ProcessHandle.current().pid(), io.jcircuit.SpawnOptions.defaults().daemonized()).result();
            System.out.println(pid);
            System.out.flush();
            new java.util.concurrent.CountDownLatch(1).await();
        }
    }

    @Test
    @Tag("slow")
    void aLocalCircuitsDaemonizedWorkersEndWhenTheProgramIsKilled(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Process program = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), RunMain.class.getName(), "--local", dir.toString(), examples(),
            DaemonThenForever.class.getName())
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long worker = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(program.getInputStream())).readLine());
            assertThat(ProcessHandle.of(worker)).as("the daemonized worker runs").isPresent();
            program.destroyForcibly().waitFor();

            // before: it ran on for good, its ZooKeeper and its host gone with the program, out of every verb's reach
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(worker).map(h -> !h.isAlive()).orElse(true));
        } finally {
            program.destroyForcibly();
        }
    }

    @Test
    @Tag("slow")
    void theProgramEndsWhenTheLauncherIsKilled(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // stands in for the 'circuit run' JVM, which SIGKILL ends without running its shutdown hook
        Process launcher = new ProcessBuilder("sleep", "600").start();
        Process program = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-D" + RunMain.PARENT_PROPERTY + "=" + launcher.pid(), "-cp", System.getProperty("java.class.path"),
            RunMain.class.getName(), "--local", dir.toString(), examples(), DaemonThenForever.class.getName())
            .start();
        try {
            long worker = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(program.getInputStream())).readLine());
            assertThat(ProcessHandle.of(worker)).as("the program runs, and its daemonized worker").isPresent();
            launcher.destroyForcibly().waitFor();
            // a first fix hung here: the hook that closes the local host waited for its workers' exits on the
            // common pool, whose one thread was the one in System.exit

            assertThat(program.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the program ended with its launcher").isTrue();
            assertThat(new String(program.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
                .contains("the launcher (pid " + launcher.pid() + ") has ended; the program ends with it");
        } finally {
            program.destroyForcibly();
            launcher.destroyForcibly();
        }
    }

    @Test
    void aMissingJarIsNamed() {
        CliRun.Result r = CliRun.run("run", "--local", "/nowhere/app.jar");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no such jar: /nowhere/app.jar");
    }

    @Test
    void withNoCircuitTheErrorSaysWhatWasTriedAndOffersLocal(@org.junit.jupiter.api.io.TempDir java.nio.file.Path empty) {
        CliRun.Result r = CliRun.run("run", "--dir", empty.toString(), examples(), "io.jcircuit.examples.hello.HelloSpawn");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no circuit to run in").contains("--local");
    }
}
