package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.cli.console.CircuitSampler;
import io.jcircuit.cli.console.ConsoleServer;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code circuit console}: the web console, in the foreground until Ctrl-C. */
@Command(name = "console", mixinStandardHelpOptions = true,
    description = {"Serve the web console: the live circuit as a graph of hosts, workers and call flows.",
        "A thread dump and a flame graph of any worker are a click away.",
        "It listens on loopback unless --bind (with --insecure) says otherwise: whoever reaches it can profile every worker.",
        "Example: circuit console --port 7766, then open http://127.0.0.1:7766/"})
public final class ConsoleCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "" + ConsoleServer.Config.DEFAULT_PORT, paramLabel = "PORT",
        description = "Port to listen on; 0 for any free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--bind", defaultValue = ConsoleServer.Config.DEFAULT_BIND, paramLabel = "ADDRESS",
        description = "Address to listen on. Default: ${DEFAULT-VALUE} (this machine only).")
    String bind;

    @Option(names = "--interval-ms", defaultValue = "" + ConsoleServer.Config.DEFAULT_INTERVAL_MS, paramLabel = "MS",
        description = "How often the page refreshes and the circuit is sampled, at least 200. Default: ${DEFAULT-VALUE}.")
    long intervalMs;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys = new KeyOptions();

    @Option(names = "--insecure",
        description = "Allow a --bind beyond loopback. The console has no authentication: whoever reaches its port can "
            + "take thread dumps and profiles of every worker.")
    boolean insecure;

    @Spec
    CommandSpec spec;

    /**
     * Starts a console over {@code namespace}, reaching workers through {@code client}, with the CLI's JSON
     * writer. The caller closes the server, then the client and the namespace. When the address cannot be
     * bound, the message names the option that chose the port, {@code portOption}.
     */
    public static ConsoleServer serve(ConsoleServer.Config config, Namespace namespace, Circuit client, String portOption) {
        try {
            return ConsoleServer.start(config, namespace, client, Json::write);
        } catch (java.io.UncheckedIOException e) {
            throw new java.io.UncheckedIOException(e.getMessage() + "; choose another " + portOption + " (0 for any free one)",
                e.getCause());
        }
    }

    /** True when {@code address} names this machine's loopback only; false for anything else, the wildcard included. */
    static boolean isLoopback(String address) {
        try {
            return java.net.InetAddress.getByName(address).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false; // the bind fails later, with its own message
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        // the console has no authentication of its own, cluster key or not
        if (!insecure && !isLoopback(bind)) {
            try {
                java.net.InetAddress.getByName(bind);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("--bind " + bind + " names no address: give an address of this machine,"
                    + " such as 127.0.0.1");
            }
            throw new IllegalArgumentException("--bind " + bind + " serves the console beyond this machine, and it has no"
                + " authentication: whoever reaches it can take thread dumps and profiles of every worker. Add --insecure"
                + " to do it anyway (on a network you trust), or leave --bind at 127.0.0.1 and reach it through an SSH tunnel");
        }
        ConsoleServer.Config config = new ConsoleServer.Config(bind, port, intervalMs, CircuitSampler.DEFAULT_POLL_TIMEOUT);
        Path state = NamespaceOptions.stateDir(where.dir, where.env);
        Path keyFile = keys.resolve(where.env, state);
        CountDownLatch stopped = new CountDownLatch(1);
        // The console's own runtime files nothing in the namespace: it only calls the workers' ops service.
        try (Namespace ns = where.connect();
             CircuitRuntime client = CircuitRuntime.start(RuntimeConfig.builder().clusterKeyFile(keyFile).build());
             ConsoleServer console = serve(config, ns, client, "--port")) {
            // a console whose key the hosts do not share would show every worker as not answering
            io.jcircuit.runtime.host.HostService.keyMismatch(client.clusterKeyFingerprint(),
                ns.listAnchors("/host", true).entries(), null, "console").ifPresent(why -> {
                    throw new IllegalStateException(why);
                });
            Thread hook = new Thread(stopped::countDown, "circuit-console-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            PrintWriter out = spec.commandLine().getOut();
            out.println("console at " + console.uri() + (isLoopback(bind) ? "" : " (listening on " + bind + ")")
                + " for the circuit at " + ns.config().connectString()
                + "; " + KeyOptions.describe(keyFile, false) + "; stop with Ctrl-C");
            out.flush();
            stopped.await();
            return 0;
        }
    }
}
