package io.jcircuit.cli;

import io.jcircuit.link.tls.ClusterKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code circuit keygen}: writes a new cluster key file (DESIGN §4). Works on the local file system
 * alone; needs no ZooKeeper.
 *
 * <p>The default place is in the state directory rather than the current one, so that a key is not
 * left by accident in a project tree, where it could be committed or copied into an image.
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = {"Write a new cluster key file: a CA certificate and its private key (EC P-256, PEM), "
            + "readable by its owner only.",
        "Give the same file to every runtime of a cluster. Each makes its own certificate from it when it starts, "
            + "and runtimes link to each other over TLS 1.3 with mutual authentication: only holders of the file "
            + "can join.",
        "Whoever holds this file can run code on the cluster. Keep it as secret as a password to every machine.",
        "Prints the file's path and the key's fingerprint, which tells keys apart in logs."})
final class KeygenCommand implements Callable<Integer> {

    /** Environment variable naming the cluster key file when {@code -o} is not given. */
    static final String ENV_KEY = "CIRCUIT_KEY";

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
        description = "Where to write the key. Default: $" + ENV_KEY + ", else STATE_DIR/" + ClusterKey.FILE_NAME
            + ", where STATE_DIR is $CIRCUIT_DIR or ~/.jcircuit (created if missing).")
    Path output;

    @Option(names = "--dir", paramLabel = "STATE_DIR",
        description = "Write STATE_DIR/" + ClusterKey.FILE_NAME + ", where 'circuit start --dir STATE_DIR' and the other verbs "
            + "given --dir STATE_DIR look for the key when neither --key nor $" + ENV_KEY + " names one (created if missing).")
    Path dir;

    @Option(names = "--force",
        description = "Replace FILE if it exists. Runtimes that still use the old key cannot link to ones that use the new one.")
    boolean force;

    Map<String, String> env = System.getenv();

    @Spec
    CommandSpec spec;

    /** Where the cluster key file is when no {@code -o} says otherwise. */
    static Path defaultKeyFile(Map<String, String> env) {
        String k = env.get(ENV_KEY);
        return k != null && !k.isBlank() ? Path.of(k) : NamespaceOptions.defaultStateDir(env).resolve(ClusterKey.FILE_NAME);
    }

    @Override
    public Integer call() {
        if (output != null && dir != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give -o FILE or --dir STATE_DIR, not both");
        }
        Path file = (output != null ? output : dir != null ? dir.resolve(ClusterKey.FILE_NAME) : defaultKeyFile(env)).toAbsolutePath();
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(file + " is a directory; nothing written. Give -o the path of the key file,"
                + " for example " + file.resolve("cluster.key"));
        }
        if (!force && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(file + " already exists, and may be the key a cluster runs with; "
                + "nothing written. Use --force to replace it, or -o to write elsewhere");
        }
        if (output == null) {
            createParent(file); // the state directory, which may not exist yet
        } else if (file.getParent() != null && !Files.isDirectory(file.getParent())) {
            // as profile -o and heap --dump: a mistyped directory is not made
            throw new IllegalArgumentException("no directory " + file.getParent() + "; nothing written");
        }
        ClusterKey key = ClusterKey.generate();
        key.writeTo(file, force);
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote cluster key " + file + " (fingerprint " + key.fingerprint() + ")");
        out.println("warning: whoever holds this file can run code on the cluster. Copy it only to the machines "
            + "of the cluster, and never into a repository or an image.");
        out.flush();
        return 0;
    }

    private static void createParent(Path file) {
        Path parent = file.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            try {
                // made owner-only, as a host makes its state directory: it is where the key lives
                io.jcircuit.host.Dirs.ownerOnly(parent, false);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the directory " + parent + " for the key: " + e, e);
            }
        }
    }
}
