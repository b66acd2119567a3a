package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.host.HostDaemon;
import io.jcircuit.runtime.CircuitRuntime;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * A local circuit for tests: one ZooKeeper (embedded in the first host) and host daemons on
 * loopback, with their state in a temporary directory; a JUnit 5 extension, as Curator's
 * {@code TestingServer} and Akka's {@code TestKit} are for theirs.
 *
 * <pre>{@code
 * class WordCountTest {
 *     @RegisterExtension
 *     static final LocalCircuit circuit = LocalCircuit.withHosts(2);   // host-1, host-2
 *
 *     @Test
 *     void countsOnEveryHost(Circuit client) {                        // a client runtime, closed after the test
 *         Spawned<Integer> s = client.spawn("host-2", List.of("/wordcount"), () -> 6 * 7);
 *         assertThat(s.result()).isEqualTo(42);
 *     }
 * }
 * }</pre>
 *
 * <h2>Lifetime</h2>
 * <ul>
 *   <li>In a {@code static} field the circuit starts before the first test of the class and stops
 *       after the last one (and after those of its {@code @Nested} classes).</li>
 *   <li>In an instance field it starts before each test and stops after it; with
 *       {@code @TestInstance(PER_CLASS)} JUnit treats it as class-wide, as for a static field.</li>
 *   <li>Outside JUnit, {@link #start()} and {@link #close()} do the same by hand.</li>
 * </ul>
 * Stopping closes the clients handed out, then the hosts (which kill the workers they started), then
 * deletes the state directory unless {@link #keepingStateDir()} was asked for. An instance is
 * single-use: it cannot start again once closed. A circuit started by hand before JUnit sees it is
 * left running by the extension; whoever started it closes it.
 *
 * <h2>Parameters</h2>
 * A test or lifecycle method may declare a parameter of type {@link Circuit} or
 * {@link CircuitRuntime}: each such parameter gets a new client runtime connected to this circuit,
 * closed right after the test (for {@code @BeforeAll} and {@code @AfterAll} methods, after the
 * class). A parameter of type {@code LocalCircuit} gets this extension. When two local circuits are
 * registered for one test such a parameter is ambiguous and resolution fails; use their fields.
 *
 * <p>Nothing is static: several local circuits run side by side in one JVM, each with its own
 * ZooKeeper, and never see each other's hosts or workers. Instances are thread-safe, so tests that
 * share one may run in parallel.
 */
public final class LocalCircuit implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
    AfterEachCallback, ParameterResolver, AutoCloseable {

    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._:@+=,-]+");
    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(LocalCircuit.class);

    private enum State { NEW, RUNNING, CLOSED }

    /** The local circuits activated in one extension context; kept in that context's store. */
    private record Active(Set<LocalCircuit> circuits) {
    }

    private final List<String> hostNames;
    private final boolean keepStateDir;
    private final boolean secured;
    private final Object lock = new Object();
    private State state = State.NEW;
    private RunningCircuit running;
    /** The unique id of the extension context whose end stops the circuit, or null when started by hand. */
    private String ownerContext;
    /** Clients injected as parameters, by the unique id of the extension context whose end closes them. */
    private final Map<String, List<CircuitRuntime>> injected = new ConcurrentHashMap<>();

    private LocalCircuit(List<String> hostNames, boolean keepStateDir) {
        this(hostNames, keepStateDir, false);
    }

    private LocalCircuit(List<String> hostNames, boolean keepStateDir, boolean secured) {
        this.secured = secured;
        this.hostNames = List.copyOf(hostNames);
        this.keepStateDir = keepStateDir;
    }

    /**
     * A local circuit with {@code count} hosts named {@code host-1} to {@code host-<count>}. Nothing
     * starts until JUnit (or {@link #start()}) starts it.
     *
     * @throws IllegalArgumentException when {@code count} is below 1
     */
    public static LocalCircuit withHosts(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count=" + count + ": a local circuit needs at least one host");
        }
        return new LocalCircuit(IntStream.rangeClosed(1, count).mapToObj(i -> "host-" + i).toList(), false);
    }

    /**
     * A local circuit with one host per name, started in this order; the first runs ZooKeeper.
     *
     * @throws IllegalArgumentException when no name is given, a name repeats, or a name is not one
     *                                  namespace path component (letters, digits and {@code . _ - : @ + = ,})
     */
    public static LocalCircuit withHosts(String... names) {
        if (names.length == 0) {
            throw new IllegalArgumentException("a local circuit needs at least one host name");
        }
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            if (n == null || !HOST_NAME.matcher(n).matches()) {
                throw new IllegalArgumentException("bad host name '" + n
                    + "': use letters, digits and . _ - : @ + = , (one namespace path component)");
            }
            if (!seen.add(n)) {
                throw new IllegalArgumentException("host name '" + n + "' is given twice in " + List.of(names));
            }
        }
        return new LocalCircuit(List.of(names), false);
    }

    /**
     * The same circuit, but its state directory (host jar caches, worker stdout and stderr, ZooKeeper's
     * data) stays on disk after it stops, for a look at what the workers printed. Its path is logged.
     */
    public LocalCircuit keepingStateDir() {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("keepingStateDir() must be asked before the circuit starts");
            }
        }
        return new LocalCircuit(hostNames, true, secured);
    }

    /**
     * The same circuit, secured: a cluster key is generated into its state directory, and its hosts,
     * their workers and its clients all link over mutual TLS 1.3 from it, as a production circuit
     * with {@code circuit keygen} does.
     */
    public LocalCircuit secured() {
        synchronized (lock) {
            if (state != State.NEW) {
                throw new IllegalStateException("secured() must be asked before the circuit starts");
            }
            return new LocalCircuit(hostNames, keepStateDir, true);
        }
    }

    /** The cluster key file of a {@link #secured()} circuit; empty otherwise. */
    public java.util.Optional<Path> keyFile() {
        return running().keyFile();
    }

    /**
     * Starts ZooKeeper and the hosts, and returns once every host is filed under {@code /host/<name>}.
     * JUnit calls this through the extension callbacks; call it yourself only outside JUnit, and then
     * {@link #close()} it.
     *
     * @throws IllegalStateException when the circuit is already running or was closed, or a host
     *                               cannot start (what had started is stopped again)
     */
    public LocalCircuit start() {
        synchronized (lock) {
            switch (state) {
                case NEW -> {
                    running = RunningCircuit.start(hostNames, keepStateDir, secured);
                    state = State.RUNNING;
                }
                case RUNNING -> throw new IllegalStateException(this + " is already running");
                case CLOSED -> throw closedError();
            }
            return this;
        }
    }

    /** The ZooKeeper connect string ({@code 127.0.0.1:port}) of this circuit's namespace. */
    public String zookeeper() {
        return running().zookeeper();
    }

    /** The host names, in start order: {@code host-1} ... {@code host-N} unless named otherwise. */
    public List<String> hosts() {
        return hostNames;
    }

    /**
     * The running host daemon {@code name}: stop it with {@code close()} to test how a circuit copes
     * with a lost host. The first host also runs the circuit's ZooKeeper, which stops with it.
     *
     * @throws IllegalArgumentException when no host has that name; the message lists the hosts
     */
    public HostDaemon host(String name) {
        HostDaemon h = running().host(name);
        if (h == null) {
            throw new IllegalArgumentException("no host named '" + name + "' in this local circuit; its hosts: " + hostNames);
        }
        return h;
    }

    /**
     * Starts a new client runtime on loopback that joins this circuit: it can spawn on the hosts and
     * use the namespace. The circuit closes it when it stops; close it earlier yourself if you like.
     */
    public CircuitRuntime newClient() {
        return running().newClient();
    }

    /** The temporary directory that holds each host's state, in a subdirectory named after the host. */
    public Path stateDir() {
        return running().stateDir();
    }

    /** True between start and close. */
    public boolean isRunning() {
        synchronized (lock) {
            return state == State.RUNNING;
        }
    }

    /**
     * Stops the circuit: closes the clients, stops the hosts (and all their workers, daemonized ones too)
     * and ZooKeeper, and
     * deletes the state directory unless kept. Idempotent. A failure to close one part does not stop
     * the others; the first is thrown with the later ones suppressed.
     */
    @Override
    public void close() {
        RunningCircuit r;
        synchronized (lock) {
            r = running;
            running = null;
            state = State.CLOSED;
            ownerContext = null;
        }
        injected.clear();
        if (r != null) {
            r.close();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        activate(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        activate(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        deactivate(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        deactivate(context);
    }

    /** Starts the circuit unless an enclosing context did, and records it as visible in {@code context}. */
    private void activate(ExtensionContext context) {
        synchronized (lock) {
            if (state == State.NEW) {
                start();
                ownerContext = context.getUniqueId();
            } else if (state == State.CLOSED) {
                throw closedError();
            }
        }
        if (!visibleIn(context).contains(this)) {
            context.getStore(STORE).getOrComputeIfAbsent(context.getUniqueId(),
                k -> new Active(new CopyOnWriteArraySet<>()), Active.class).circuits().add(this);
        }
    }

    /** Closes the clients injected in {@code context}, and the circuit when {@code context} started it. */
    private void deactivate(ExtensionContext context) {
        RuntimeException failure = null;
        List<CircuitRuntime> clients = injected.remove(context.getUniqueId());
        RunningCircuit r;
        synchronized (lock) {
            r = running;
        }
        if (clients != null && r != null) {
            for (CircuitRuntime c : clients) {
                try {
                    r.closeClient(c);
                } catch (RuntimeException e) {
                    failure = failure == null ? e : addSuppressed(failure, e);
                }
            }
        }
        boolean owner;
        synchronized (lock) {
            owner = context.getUniqueId().equals(ownerContext);
        }
        if (owner) {
            try {
                close();
            } catch (RuntimeException e) {
                failure = failure == null ? e : addSuppressed(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (type != LocalCircuit.class && type != Circuit.class && type != CircuitRuntime.class) {
            return false;
        }
        Set<LocalCircuit> visible = visibleIn(context);
        if (visible.size() > 1) {
            throw new ParameterResolutionException("parameter '" + parameter.getParameter().getName() + "' of type "
                + type.getSimpleName() + " in " + parameter.getDeclaringExecutable() + " is ambiguous: "
                + visible.size() + " local circuits are registered (" + visible
                + "); call newClient() on the field of the one you mean");
        }
        return true;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        if (parameter.getParameter().getType() == LocalCircuit.class) {
            return this;
        }
        CircuitRuntime client = running().newClient();
        injected.computeIfAbsent(context.getUniqueId(), k -> new CopyOnWriteArrayList<>()).add(client);
        return client;
    }

    /** The running local circuits activated in {@code context} and the contexts that enclose it. */
    private static Set<LocalCircuit> visibleIn(ExtensionContext context) {
        Set<LocalCircuit> all = new LinkedHashSet<>();
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            Active a = c.getStore(STORE).get(c.getUniqueId(), Active.class);
            if (a != null) {
                a.circuits().stream().filter(LocalCircuit::isRunning).forEach(all::add);
            }
        }
        return all;
    }

    private RunningCircuit running() {
        synchronized (lock) {
            return switch (state) {
                case RUNNING -> running;
                case NEW -> throw new IllegalStateException("the local circuit with hosts " + hostNames
                    + " is not running: register it with @RegisterExtension, or call start()");
                case CLOSED -> throw closedError();
            };
        }
    }

    private IllegalStateException closedError() {
        return new IllegalStateException("the local circuit with hosts " + hostNames + " is closed; "
            + "an instance runs once: make a new one with LocalCircuit.withHosts(...)");
    }

    private static RuntimeException addSuppressed(RuntimeException first, RuntimeException later) {
        first.addSuppressed(later);
        return first;
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "LocalCircuit[hosts " + hostNames + (running != null
                ? ", ZooKeeper " + running.zookeeper() + ", state in " + running.stateDir() : ", " + state.name().toLowerCase())
                + "]";
        }
    }
}
