package io.jcircuit.cli;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.NamespaceException;
import io.jcircuit.anchor.ZooKeeperLocator;
import io.jcircuit.host.HostDaemon;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code circuit start}: runs a host daemon in the foreground until it is stopped, by Ctrl-C (a
 * shutdown hook closes it) or by {@code circuit stop NAME}. Blocks the calling thread for the host's
 * whole life.
 */
@Command(name = "start", mixinStandardHelpOptions = true,
    description = {"Run a host daemon in the foreground until it is stopped (Ctrl-C, or 'circuit stop NAME').",
        "The host files itself under /host/NAME and starts worker JVMs for spawns; each worker's directory "
            + "(stdout, stderr, spawn.properties, pid, exit) stays under STATE_DIR/workers after it ends ('circuit clear' removes them).",
        "ZooKeeper: --zookeeper, then $CIRCUIT_ZOOKEEPER, then the embedded ZooKeeper that a host already runs from "
            + "STATE_DIR. When none is found this host runs the embedded one: it is the first host. --embedded always runs it.",
        "Stopping the host kills its workers that were not daemonized; daemonized workers keep running.",
        "Examples:%n  circuit start                    # the first host, or another one beside it in ~/.jcircuit"
            + "%n  circuit start --name h2 --zookeeper 10.0.0.1:2181%n  circuit start --embedded --dir /tmp/c1"})
final class StartCommand implements Callable<Integer> {

    /** Longest host name: one path component. */
    static final int MAX_NAME = 255;

    @Option(names = "--name", paramLabel = "NAME",
        description = "The host's name, unique in the circuit. Default: this machine's hostname, with every character "
            + "other than letters, digits, '.', '_' and '-' replaced by '-'.")
    String name;

    @Option(names = "--addr", paramLabel = "HOST:PORT", converter = AddressConverter.class,
        description = "Where the host listens. Default: 127.0.0.1 on any free port.")
    Address addr;

    @Option(names = "--dir", paramLabel = "STATE_DIR",
        description = "State directory: the jar cache, the worker directories and the embedded ZooKeeper's data. "
            + "Default: $CIRCUIT_DIR or ~/.jcircuit.")
    Path dir;

    @ArgGroup(exclusive = true)
    ZooKeeperChoice zk;

    @picocli.CommandLine.Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = "--insecure",
        description = "Listen beyond loopback without a cluster key. Anyone who reaches the port can then run code here.")
    boolean insecure;

    @Option(names = "--jar-cache", paramLabel = "SIZE", converter = SizeConverter.class,
        description = "The size the jar cache in STATE_DIR/jars is brought down to, least recently used jars first, "
            + "such as 512m or 4g, or 'unlimited'. Jars used in the last hour (by any host sharing the directory), "
            + "those of this host's running workers and those pushed by 'circuit deploy' are kept above it. Default: 1g.")
    Long jarCacheBytes;

    /** A size in bytes: digits with an optional k, m, g or t (powers of 1,024), or {@code unlimited}. */
    static final class SizeConverter implements picocli.CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.strip().toLowerCase(java.util.Locale.ROOT);
            if (v.equals("unlimited")) {
                return Long.MAX_VALUE;
            }
            int shift = v.isEmpty() ? 0 : switch (v.charAt(v.length() - 1)) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                case 't' -> 40;
                default -> 0;
            };
            String digits = shift == 0 ? v : v.substring(0, v.length() - 1);
            if (!digits.matches("[0-9]{1,19}")) {
                throw new picocli.CommandLine.TypeConversionException("'" + value
                    + "' is not a size: give bytes, or a number with k, m, g or t (such as 512m), or 'unlimited'");
            }
            long n;
            try {
                n = Long.parseLong(digits);
            } catch (NumberFormatException tooLong) {
                n = Long.MAX_VALUE;
            }
            if (n > Long.MAX_VALUE >> shift || n == Long.MAX_VALUE) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is larger than any disk");
            }
            return n << shift;
        }
    }

    @Option(names = "--console", paramLabel = "PORT",
        description = "Also serve the web console on 127.0.0.1:PORT (0: any free port) for as long as the host runs.")
    Integer consolePort;

    /** {@code --zookeeper} and {@code --embedded} exclude each other. */
    static final class ZooKeeperChoice {
        @Option(names = "--zookeeper", paramLabel = "CONNECT",
            description = "Join the circuit whose namespace is in this ZooKeeper ensemble, host:port[,host:port...].")
        String connect;

        @Option(names = "--embedded",
            description = "Run the embedded ZooKeeper (loopback only, data in STATE_DIR/zookeeper) even when "
                + "$CIRCUIT_ZOOKEEPER is set: start a new circuit.")
        boolean embedded;
    }

    Map<String, String> env = System.getenv();

    @Spec
    CommandSpec spec;

    /**
     * What {@code start} will run.
     *
     * @param config    the host daemon's configuration; its {@code zookeeper} is null when the host runs the embedded one
     * @param zookeeper how the ZooKeeper was chosen, for the start line
     */
    record Plan(HostDaemon.Config config, String zookeeper) {
    }

    @Override
    public Integer call() {
        Plan plan = plan();
        HostDaemon host;
        try {
            host = HostDaemon.start(plan.config());
        } catch (NamespaceException e) {
            if (plan.config().zookeeper() == null) {
                // about the embedded one, which its message names (it may be another host's: "run by this host" was wrong)
                throw e;
            }
            throw new NamespaceException(e.getMessage() + " (ZooKeeper: " + plan.zookeeper() + ")", e);
        }
        Thread hook = new Thread(host::close, "circuit-start-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        io.jcircuit.anchor.Namespace consoleNamespace = null;
        io.jcircuit.cli.console.ConsoleServer console = null;
        try {
            if (consolePort != null) {
                // the host's own runtime reaches the workers' ops services; the console lives as long as the host
                try {
                    consoleNamespace = io.jcircuit.anchor.Namespace.connect(io.jcircuit.anchor.NamespaceConfig.of(host.zookeeper()));
                    console = ConsoleCommand.serve(io.jcircuit.cli.console.ConsoleServer.Config.onPort(consolePort),
                        consoleNamespace, host.runtime(), "--console port");
                } catch (RuntimeException e) {
                    host.close(); // not started after all: it leaves the namespace and its state as a stop would
                    throw e;
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("host " + host.name() + " at " + host.address() + "; ZooKeeper " + host.zookeeper()
                + " (" + plan.zookeeper() + "); state in " + plan.config().stateDir()
                + "; " + KeyOptions.describe(plan.config().keyFile(), plan.config().insecure())
                + "; stop with Ctrl-C or 'circuit stop " + host.name() + "'");
            if (console != null) {
                out.println("console at " + console.uri());
            }
            out.flush();
            host.awaitStop();
            if (host.lostName() != null) {
                spec.commandLine().getErr().println("circuit start: host " + host.name() + " stopped: its name is now held by "
                    + host.lostName() + ", started while this host was away from ZooKeeper past its session timeout");
                return 1;
            }
            return 0;
        } catch (InterruptedException e) {
            host.close();
            Thread.currentThread().interrupt();
            spec.commandLine().getErr().println("circuit start: interrupted; host " + host.name() + " stopped");
            return 1;
        } finally {
            if (console != null) {
                console.close();
            }
            if (consoleNamespace != null) {
                consoleNamespace.close();
            }
            removeHook(hook);
        }
    }

    /** Resolves the options, the environment and the state directory into the host's configuration. */
    Plan plan() {
        Path state = NamespaceOptions.stateDir(dir, env).toAbsolutePath().normalize();
        String hostName = name != null ? checkName(name) : sanitize(machineName());
        String bindHost = addr == null ? null : addr.host();
        int port = addr == null ? 0 : addr.port();
        checkOneInterface(addr);
        Path keyFile = keys.resolve(env, state);
        if (zk == null || !zk.embedded) {
            Optional<ZooKeeperLocator.Found> found = new ZooKeeperLocator(zk == null ? null : zk.connect, env, state).find();
            if (found.isPresent()) {
                return new Plan(new HostDaemon.Config(hostName, state, found.get().connectString(), bindHost, port)
                    .withKey(keyFile, insecure).withJarCacheBytes(jarCache()), "joined, from " + found.get().source());
            }
        }
        return new Plan(new HostDaemon.Config(hostName, state, null, bindHost, port).withKey(keyFile, insecure)
            .withJarCacheBytes(jarCache()), "embedded, run by this host");
    }

    private long jarCache() {
        return jarCacheBytes != null ? jarCacheBytes : HostDaemon.DEFAULT_JAR_CACHE_BYTES;
    }

    /**
     * Turns a machine's hostname into a host name: every character other than ASCII letters, digits,
     * {@code .}, {@code _} and {@code -} becomes {@code -}. A result that could not be a path component
     * ({@code .}, {@code ..}, empty, or shaped like a worker id) is made into one.
     */
    static String sanitize(String raw) {
        StringBuilder b = new StringBuilder();
        String s = raw == null ? "" : raw.strip();
        for (int i = 0; i < s.length() && b.length() < MAX_NAME; i++) {
            char c = s.charAt(i);
            b.append(allowed(c) ? c : '-');
        }
        String n = b.toString();
        if (n.isEmpty() || n.equals(".") || n.equals("..")) {
            return "host";
        }
        return WorkerId.looksLikeWorkerId(n) ? "host-" + n : n;
    }

    /** Refuses a {@code --name} that {@link #sanitize} would change, in one line that says why. */
    private static String checkName(String n) {
        if (!sanitize(n).equals(n)) {
            throw new IllegalArgumentException("bad host name '" + n + "' for --name: use 1 to " + MAX_NAME
                + " letters, digits, '.', '_' and '-', not '.' or '..' or a worker id (for example --name " + sanitize(n) + ")");
        }
        return n;
    }

    private static boolean allowed(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '.' || c == '_' || c == '-';
    }

    /** This machine's hostname, or {@code $HOSTNAME}/{@code $COMPUTERNAME} when it does not resolve. */
    private String machineName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            for (String var : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
                String v = env.get(var);
                if (v != null && !v.isBlank()) {
                    return v;
                }
            }
            return "host";
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting and the hook closes the host
        }
    }

    /**
     * Refuses an {@code --addr} on every interface: peers must dial one address. (The runtime would
     * refuse it in its own terms, bindHost and advertisedHost, which no option of a command sets.)
     */
    static void checkOneInterface(Address addr) {
        if (addr != null && (addr.host().equals("0.0.0.0") || addr.host().equals("::"))) {
            throw new IllegalArgumentException("--addr " + addr + " listens on every interface,"
                + " but peers must dial one address: give --addr the address of the interface they reach");
        }
    }

    /** Parses {@code --addr} with {@link Address#parse}, keeping its message. */
    static final class AddressConverter implements CommandLine.ITypeConverter<Address> {
        @Override
        public Address convert(String value) {
            try {
                return Address.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
