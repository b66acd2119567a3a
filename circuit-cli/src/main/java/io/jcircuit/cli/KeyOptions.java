package io.jcircuit.cli;

import io.jcircuit.link.tls.ClusterKey;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The option that says how a command's runtime secures its links, shared by every command that
 * starts one: the cluster key. The explicit opt-out for plain TCP beyond loopback, {@code --insecure},
 * is an option of the commands that listen for others ({@code start}, {@code console}) alone: the
 * others only dial out, and it would change nothing there.
 */
final class KeyOptions {

    @Option(names = "--key", paramLabel = "FILE",
        description = "The cluster key file ('circuit keygen'); every link speaks mutual TLS 1.3 with it. "
            + "Default: $" + KeygenCommand.ENV_KEY + ", then STATE_DIR/" + ClusterKey.FILE_NAME + " if it exists. "
            + "Without a key, runtimes listen on loopback only.")
    Path key;

    /**
     * The key file in effect, or null for none. A file named by {@code --key} or the environment must
     * exist (loading it says so); the default location is used when anything is there: a link that leads
     * nowhere or a directory is refused as it loads, not passed over, which would run the command without
     * a key (plain TCP) in a circuit that has one.
     */
    Path resolve(Map<String, String> env, Path stateDir) {
        if (key != null) {
            return key.toAbsolutePath();
        }
        String named = env.get(KeygenCommand.ENV_KEY);
        if (named != null && !named.isBlank()) {
            return Path.of(named).toAbsolutePath();
        }
        Path fallback = stateDir.resolve(ClusterKey.FILE_NAME);
        return Files.exists(fallback, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? fallback.toAbsolutePath() : null;
    }

    /** The key in effect, loaded, or null for none (see {@link #resolve}). */
    ClusterKey load(Map<String, String> env, Path stateDir) {
        Path file = resolve(env, stateDir);
        return file == null ? null : ClusterKey.load(file);
    }

    /** Says in a few words how links are secured, for a command's start line. */
    static String describe(Path keyFile, boolean insecure) {
        if (keyFile != null) {
            return "links: mutual TLS 1.3, cluster key " + keyFile + " (fingerprint " + ClusterKey.load(keyFile).fingerprint() + ")";
        }
        return insecure ? "links: plain TCP (--insecure)" : "links: plain TCP, loopback only (no cluster key)";
    }
}
