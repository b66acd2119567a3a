package io.jcircuit.cli;

import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceConfig;
import io.jcircuit.anchor.NamespaceException;
import io.jcircuit.anchor.ZooKeeperLocator;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The options that say where the circuit's ZooKeeper is, shared by every command that reads the namespace. */
final class NamespaceOptions {

    /** The state directory when neither {@code --dir} nor {@code CIRCUIT_DIR} says otherwise. */
    static Path defaultStateDir(Map<String, String> env) {
        String d = env.get("CIRCUIT_DIR");
        return d != null && !d.isBlank() ? notAFile(Path.of(d), "$CIRCUIT_DIR")
            : notAFile(Path.of(System.getProperty("user.home"), ".jcircuit"), "the default");
    }

    /** The state directory: {@code flag} (a {@code --dir} option) when given, else {@link #defaultStateDir}. */
    static Path stateDir(Path flag, Map<String, String> env) {
        return flag != null ? notAFile(flag, "--dir") : defaultStateDir(env);
    }

    /** {@code dir}, which may not exist yet; fails plainly when it is something other than a directory. */
    private static Path notAFile(Path dir, String from) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("the state directory " + dir + " (" + from + ") is not a directory");
        }
        return dir;
    }

    @Option(names = "--zookeeper", paramLabel = "CONNECT",
        description = "ZooKeeper ensemble, host:port[,host:port...]. Default: $CIRCUIT_ZOOKEEPER, then the "
            + "embedded server's connect file under the state directory.")
    String zookeeper;

    @Option(names = "--dir", paramLabel = "STATE_DIR",
        description = "State directory, where the embedded ZooKeeper writes its connect file. Default: $CIRCUIT_DIR or ~/.jcircuit.")
    Path dir;

    Map<String, String> env = System.getenv();

    /**
     * Connects to the ZooKeeper found, or fails with a message that says what was tried.
     *
     * @throws NamespaceException when nothing is configured, or nothing answers where configured
     */
    Namespace connect() {
        Path state = stateDir(dir, env);
        ZooKeeperLocator locator = new ZooKeeperLocator(zookeeper, env, state);
        ZooKeeperLocator.Found found = locator.find().orElseThrow(() -> new NamespaceException(
            "no ZooKeeper to ask; tried " + locator.describe()
                + ". Start a circuit, or point at one with --zookeeper or $" + ZooKeeperLocator.ENV));
        try {
            return Namespace.connect(NamespaceConfig.of(found.connectString()).withConnectTimeoutMs(3_000));
        } catch (NamespaceException e) {
            throw new NamespaceException(e.getMessage() + " (from " + found.source() + ")", e);
        }
    }
}
