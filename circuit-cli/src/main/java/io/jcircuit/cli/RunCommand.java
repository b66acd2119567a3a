package io.jcircuit.cli;

import io.jcircuit.anchor.NamespaceException;
import io.jcircuit.anchor.ZooKeeperLocator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code circuit run}: runs a circuit program in a new JVM whose classpath is JCircuit's plus the
 * application jar, as a client of the running circuit, or with {@code --local} of a circuit of its
 * own for as long as it runs.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run a circuit program: APP.jar's MAIN (default: its Main-Class) with Circuit.current() bound "
        + "on the main thread to a runtime joined to the circuit.",
        "ZooKeeper: --zookeeper, then $CIRCUIT_ZOOKEEPER, then the embedded ZooKeeper under the state directory. "
            + "With --local the program gets a circuit of its own: an in-process host 'local' with an embedded "
            + "ZooKeeper, gone when the program ends.",
        "With --local, the program's workers, daemonized ones too, end with it; the options of a circuit to join are "
            + "refused, and $CIRCUIT_ZOOKEEPER, $CIRCUIT_KEY and $CIRCUIT_DIR are not read.",
        "Options go before APP.jar: everything after MAIN is the program's, options too.",
        "Exit status: the program's (1 when main threw); 1 when there is nothing to run or no circuit to join.",
        "Examples:%n  circuit run --local examples/target/examples-0.1.0-SNAPSHOT.jar io.jcircuit.examples.hello.HelloSpawn"
            + "%n  circuit run app.jar"})
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "APP.jar", description = "The application jar.")
    Path jar;

    @Parameters(index = "1", arity = "0..1", paramLabel = "MAIN", description = "Main class; '-' or absent: the jar's Main-Class.")
    String main;

    @Parameters(index = "2..*", paramLabel = "ARGS", description = "Arguments for main.")
    List<String> args = new ArrayList<>();

    @Option(names = "--local", description = "Run with a circuit of its own: an in-process host and an embedded ZooKeeper.")
    boolean local;

    @Option(names = "--zookeeper", paramLabel = "CONNECT", description = "ZooKeeper ensemble of the circuit to join.")
    String zookeeper;

    @Option(names = "--dir", paramLabel = "STATE_DIR", description = "State directory. Default: $CIRCUIT_DIR or ~/.jcircuit.")
    Path dir;

    @picocli.CommandLine.Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = "--addr", paramLabel = "HOST:PORT", converter = StartCommand.AddressConverter.class,
        description = "Where the program's runtime listens: an address that the circuit's other machines reach, for "
            + "the workers it spawns there to link back to it. Default: 127.0.0.1 on any free port.")
    io.jcircuit.Address addr;

    @Option(names = "--insecure",
        description = "Let --addr be beyond loopback without a cluster key. Anyone who reaches the port can then run code in the program.")
    boolean insecure;

    Map<String, String> env = System.getenv();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        checkLocalAlone();
        if (!Files.exists(jar)) {
            throw new IllegalArgumentException("no such jar: " + jar);
        }
        if (Files.isRegularFile(jar)) { // a directory of classes runs too
            DeployCommand.checkReadableJar(jar); // before a JVM starts for it
        }
        StartCommand.checkOneInterface(addr);
        Path state = NamespaceOptions.stateDir(dir, env);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--sun-misc-unsafe-memory-access=allow");
        Path keyFile = local ? null : keys.resolve(env, state);
        if (keyFile != null) {
            cmd.add("-D" + RunMain.KEY_PROPERTY + "=" + keyFile);
        }
        if (addr != null) {
            cmd.add("-D" + RunMain.ADDR_PROPERTY + "=" + addr);
        }
        if (insecure) {
            cmd.add("-D" + RunMain.INSECURE_PROPERTY + "=true");
        }
        // the program ends with this process, also when it is killed with SIGKILL (no shutdown hook runs then)
        cmd.add("-D" + RunMain.PARENT_PROPERTY + "=" + ProcessHandle.current().pid());
        // a spawn on a deployment ships JCircuit's jars and the deployment's, never the application jar
        // (the launcher's demo and bench jars stay out of both: RuntimeJars)
        String runtimeJars = RuntimeJars.classpath();
        cmd.add("-D" + io.jcircuit.runtime.host.Deployment.RUNTIME_CLASSPATH_PROPERTY + "=" + runtimeJars);
        cmd.add("-cp");
        cmd.add(runtimeJars + File.pathSeparator + jar.toAbsolutePath());
        cmd.add(RunMain.class.getName());
        Path runDir = null;
        if (local) {
            runDir = LocalDirs.create("jcircuit-run-");
            cmd.add("--local");
            cmd.add(runDir.toString());
        } else {
            ZooKeeperLocator locator = new ZooKeeperLocator(zookeeper, env, state);
            ZooKeeperLocator.Found found = locator.find().orElseThrow(() -> new NamespaceException(
                "no circuit to run in; tried " + locator.describe() + ". Start one with 'circuit start', or use --local"));
            cmd.add("--zookeeper");
            cmd.add(found.connectString());
        }
        cmd.add(jar.toAbsolutePath().toString());
        cmd.add(main == null ? "-" : main);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        Path localDir = runDir;
        // Ctrl-C: the program ends (closing its local circuit), then its directory goes
        Thread stopChild = new Thread(() -> {
            p.destroy();
            try {
                p.waitFor(STOP_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deleteLocal(localDir);
        }, "circuit-run-stop");
        Runtime.getRuntime().addShutdownHook(stopChild);
        int code = p.waitFor();
        if (!ShutdownHooks.unhook(stopChild)) {
            return code; // Ctrl-C: the hook ends the program and removes its directory
        }
        deleteLocal(runDir);
        return code;
    }

    /**
     * Refuses, with {@code --local}, every option that says which circuit to join or how to reach it: the
     * program's circuit is then its own, and each would be ignored (the operator who gave {@code --zookeeper}
     * meant that circuit, not a throw-away one).
     */
    private void checkLocalAlone() {
        if (!local) {
            return;
        }
        if (addr != null) {
            throw new IllegalArgumentException("--addr is for joining a circuit; with --local the program's circuit is on loopback");
        }
        List<String> joining = new ArrayList<>();
        if (zookeeper != null) {
            joining.add("--zookeeper");
        }
        if (keys.key != null) {
            joining.add("--key");
        }
        if (dir != null) {
            joining.add("--dir");
        }
        if (insecure) {
            joining.add("--insecure");
        }
        if (!joining.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), String.join(", ", joining) + (joining.size() == 1 ? " is" : " are")
                + " for joining a circuit; with --local the program has a circuit of its own (an embedded ZooKeeper "
                + "in a temporary directory, on loopback, no key): give --local or " + String.join(", ", joining) + ", not both");
        }
    }

    /** How long Ctrl-C gives the program to end, closing its local circuit, before its directory goes. */
    private static final int STOP_GRACE_SECONDS = 15;

    /** The local circuit's ZooKeeper data, jar cache and worker directories, when there is one. */
    private static void deleteLocal(Path runDir) {
        if (runDir != null) {
            io.jcircuit.host.Dirs.deleteTree(runDir);
        }
    }
}
