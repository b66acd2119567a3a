package io.jcircuit.anchor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the ZooKeeper to use, in order: an explicit {@code --zookeeper} value, the
 * {@code CIRCUIT_ZOOKEEPER} environment variable, then the connect file of the embedded server under
 * the state directory. {@link #describe()} says which were tried, for the error a user sees.
 */
public final class ZooKeeperLocator {

    public static final String ENV = "CIRCUIT_ZOOKEEPER";

    private final String flag;
    private final Map<String, String> env;
    private final Path stateDir;

    /**
     * @param flag the {@code --zookeeper} value, or null when not given
     * @throws IllegalArgumentException when {@code flag} was given empty: the first source given is the one used,
     *                                  and an empty one is a mistake, not a wish for the next (a probe's
     *                                  {@code --zookeeper ''} quietly used the state directory's connect file)
     */
    public ZooKeeperLocator(String flag, Map<String, String> env, Path stateDir) {
        if (flag != null && flag.isBlank()) {
            throw new IllegalArgumentException("--zookeeper is empty: give host:port[,host:port...], or leave it out to use $"
                + ENV + " or the state directory's connect file");
        }
        this.flag = flag;
        this.env = env;
        this.stateDir = stateDir;
    }

    /** The connect string found, and where it came from. */
    public record Found(String connectString, String source) {
    }

    public Optional<Found> find() {
        if (flag != null && !flag.isBlank()) {
            return Optional.of(new Found(flag.strip(), "--zookeeper"));
        }
        String e = env.get(ENV);
        if (e != null && !e.isBlank()) {
            return Optional.of(new Found(e.strip(), "$" + ENV));
        }
        return EmbeddedZooKeeper.connectStringIn(stateDir)
            .map(c -> new Found(c, EmbeddedZooKeeper.dirOf(stateDir).resolve(EmbeddedZooKeeper.CONNECT_FILE).toString()));
    }

    /** Every source in order, with what it held: for error messages. */
    public String describe() {
        List<String> tried = new ArrayList<>();
        tried.add("--zookeeper " + (flag == null || flag.isBlank() ? "(not given)" : flag));
        String e = env.get(ENV);
        tried.add("$" + ENV + " " + (e == null || e.isBlank() ? "(not set)" : e));
        Path f = EmbeddedZooKeeper.dirOf(stateDir).resolve(EmbeddedZooKeeper.CONNECT_FILE);
        tried.add(f + EmbeddedZooKeeper.connectStringIn(stateDir).map(c -> " (" + c + ")").orElse(" (absent or stale: no embedded ZooKeeper running)"));
        return String.join("; ", tried);
    }
}
