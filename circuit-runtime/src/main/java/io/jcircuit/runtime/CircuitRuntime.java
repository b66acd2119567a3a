package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.Anchors;
import io.jcircuit.Circuit;
import io.jcircuit.Durable;
import io.jcircuit.Entry;
import io.jcircuit.Fn;
import io.jcircuit.Membership;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;
import io.jcircuit.anchor.EmbeddedZooKeeper;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.NamespaceAnchors;
import io.jcircuit.anchor.NamespaceConfig;
import io.jcircuit.anchor.NamespaceDurable;
import io.jcircuit.anchor.ValueCodec;
import io.jcircuit.codec.Message;
import io.jcircuit.codec.MessageCodec;
import io.jcircuit.link.FrameCodec;
import io.jcircuit.codec.RefDescriptor;
import io.jcircuit.codec.References;
import io.jcircuit.codec.WorkerDescriptor;
import io.jcircuit.link.Link;
import io.jcircuit.link.LinkListener;
import io.jcircuit.link.LinkTransport;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A JCircuit runtime: the {@link Circuit} of one process (or of one test among several in a JVM).
 * It owns a link transport, an export table, its services and the sessions with its peers; nothing
 * is static, so any number of runtimes share a JVM.
 *
 * <p>Lifecycle: {@link #start} returns a running runtime or throws with everything it opened closed;
 * {@link #close} is idempotent.
 */
public final class CircuitRuntime implements Circuit {

    /** The prefix of JCircuit's own service names, which applications may not take. */
    public static final String OWN_SERVICES = "circuit.";

    private static final Logger LOG = LoggerFactory.getLogger(CircuitRuntime.class);

    private final RuntimeConfig config;
    private final WorkerId id;
    private final ExportTable exports;
    private final ImportTable imports;
    private final ConcurrentHashMap<String, Object> services = new ConcurrentHashMap<>();
    /** Services a hot swap forwarded, by name: what {@link #reopenService} takes back when the replacement died. */
    private final ConcurrentHashMap<String, Object> forwarded = new ConcurrentHashMap<>();
    /** What {@link #whenPeerEnds} was asked to run and not cancelled, by peer; a peer with none has no entry. */
    private final ConcurrentHashMap<WorkerId, java.util.List<PeerEnd>> peerEnds = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The channels this runtime owns, told when it closes; weak, as a channel nobody holds is gone. */
    private final java.util.Set<LocalChan> chans =
        java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
    private final MessageCodec codec;
    private final Instrumentation instrumentation;
    private final io.jcircuit.runtime.ops.RuntimeSettings settings;
    private final Invoker invoker;
    private final long startedMillis = System.currentTimeMillis();
    private final Dispatcher dispatcher;
    private final Peers peers;
    /** The acquires of references from third runtimes, bounded per sender ({@link Acquires}). */
    private final Acquires acquires;
    private final CallDeadlines callDeadlines;
    private final Waiters waiters;
    private final Completions completions;
    private final Spawning spawning = new Spawning(this);
    private LinkTransport transport;
    private Worker self;
    private EmbeddedZooKeeper embeddedZooKeeper;
    private Namespace namespace;
    private NamespaceAnchors anchors;
    private NamespaceDurable durable;
    /** The forwarding records of this runtime's hot swaps; null without a durable store. */
    private ForwardingRecords forwardingRecords;
    /** The workers the process this runs in knows to run ({@link #knowsRunning}). */
    private volatile java.util.function.Predicate<WorkerId> runsHere = w -> false;
    private io.jcircuit.runtime.host.Deployments deployments;
    private io.jcircuit.Subscription holderDeaths;

    private CircuitRuntime(RuntimeConfig config) {
        this.config = config;
        this.id = config.workerId() != null ? config.workerId() : WorkerId.random();
        this.exports = new ExportTable(Cleaners.SHARED);
        this.imports = new ImportTable(Cleaners.SHARED, this::sendReleases);
        this.callDeadlines = new CallDeadlines(id.toString());
        this.waiters = new Waiters(config.link().spinMicros(), Waiters.carriers());
        this.completions = new Completions(id.toString(), waiters, callDeadlines);
        this.codec = new MessageCodec(config.classLoader(), new ReferenceBridge(), io.jcircuit.runtime.host.HostService.RECORDS);
        this.instrumentation = new Instrumentation(config.callMetrics() ? new io.jcircuit.runtime.ops.CallMetrics() : null);
        this.settings = new io.jcircuit.runtime.ops.RuntimeSettings(new io.jcircuit.runtime.ops.LogControl());
        this.invoker = new Invoker(this, instrumentation);
        this.dispatcher = new Dispatcher(this, instrumentation);
        this.peers = new Peers(config.maxIncomingCallsPerLink(), config.maxOutgoingCallsPerLink(),
            config.link().maxUnackedBytes());
        this.acquires = new Acquires(peers::hasLiveSession, invoker::acquire);
    }

    /**
     * The cleaner of every runtime in the JVM, which reports the handlers of exported and imported
     * references that became unreachable ({@link ExportTable}, {@link ImportTable}). One daemon thread,
     * {@code circuit-cleaner}, started with the first runtime, runs the actions of all; each is short
     * and never blocks. A cleaner per runtime could not be stopped by {@link #close}: a cleaner's thread
     * ends only once the cleaner is unreachable and every object registered with it is collected, so
     * each closed runtime the application still held (or any proxy of which it held) kept a platform
     * thread. The actions hold their table weakly, so they keep nothing of a closed runtime, and an
     * imported handler's queues no release once its runtime has closed.
     */
    private static final class Cleaners {
        static final Cleaner SHARED = Cleaner.create(Thread.ofPlatform().daemon().name("circuit-cleaner").factory());
    }

    /** Starts a runtime with {@code config}: binds its port and is ready for calls. */
    public static CircuitRuntime start(RuntimeConfig config) {
        Objects.requireNonNull(config, "config");
        // Joining ZooKeeper (Curator's start, the session) is begun first, on a thread of its own, so that
        // it overlaps building the codec and binding the port: in a cold worker these are each tens of ms.
        CompletableFuture<Joined> joining = config.hasNamespace() ? beginJoin(config) : null;
        CircuitRuntime rt;
        try {
            rt = new CircuitRuntime(config);
        } catch (RuntimeException | Error e) {
            abandon(joining);
            throw e;
        }
        try {
            io.jcircuit.link.LinkConfig links = config.link();
            if (config.clusterKey() != null) {
                // The certificate names this runtime's id: a peer cannot claim to be another worker.
                links = links.withTls(io.jcircuit.link.tls.ClusterTls.of(config.clusterKey().issue(rt.id.toString()),
                    java.time.Duration.ofMillis(links.connectTimeoutMs())));
            }
            rt.transport = LinkTransport.start(links, rt.id, rt.new Links());
            rt.waiters.loop(rt.transport.loopShare());
            rt.peers.transport(rt.transport);
            rt.self = new RemoteWorker(rt, rt.id, rt.transport.address());
            rt.listenOwn(io.jcircuit.runtime.ops.Ops.SERVICE, io.jcircuit.runtime.ops.Ops.class,
                new io.jcircuit.runtime.ops.OpsService(rt.new OpsView(), rt.settings, new io.jcircuit.runtime.ops.LogControl()));
            if (joining != null) {
                CompletableFuture<Joined> joined = joining;
                joining = null; // from here, close() closes what it joined
                rt.joinNamespace(joined);
            }
            LOG.debug("runtime {} listening on {} ({})", rt.id, rt.address(), rt.transport.isEpoll() ? "epoll" : "nio");
            return rt;
        } catch (RuntimeException e) {
            abandon(joining);
            rt.close();
            throw e;
        }
    }

    /** The embedded ZooKeeper this runtime runs, if any, and its connection to the namespace. */
    private record Joined(EmbeddedZooKeeper embedded, Namespace namespace) {
        void close() {
            namespace.close();
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /** Starts the embedded ZooKeeper if so configured, and connects to the namespace, on a thread of its own. */
    private static CompletableFuture<Joined> beginJoin(RuntimeConfig config) {
        CompletableFuture<Joined> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("circuit-namespace-join").start(() -> {
            EmbeddedZooKeeper embedded = null;
            try {
                String connect = config.zookeeper();
                if (config.embeddedZooKeeperDir() != null) {
                    embedded = EmbeddedZooKeeper.start(config.embeddedZooKeeperDir(), 0);
                    connect = embedded.connectString();
                }
                Namespace ns = Namespace.connect(NamespaceConfig.of(connect)
                    .withSessionTimeoutMs(config.zookeeperSessionTimeoutMs())
                    .withConnectTimeoutMs(config.zookeeperConnectTimeoutMs())
                    .withRetries(config.zookeeperRetries()));
                f.complete(new Joined(embedded, ns));
            } catch (Throwable t) {
                if (embedded != null) {
                    embedded.close();
                }
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** A start that failed before it took over what {@code joining} joins: that is closed once joined. */
    private static void abandon(CompletableFuture<Joined> joining) {
        if (joining != null) {
            joining.thenAccept(Joined::close);
        }
    }

    /** Starts a runtime on loopback with default settings. */
    public static CircuitRuntime start() {
        return start(RuntimeConfig.defaults());
    }

    @Override
    public WorkerId id() {
        return id;
    }

    @Override
    public Address address() {
        return transport.address();
    }

    @Override
    public Worker self() {
        return self;
    }

    @Override
    public <T> T ref(Class<T> iface, T impl) {
        ensureOpen();
        Objects.requireNonNull(iface, "iface");
        Objects.requireNonNull(impl, "impl");
        if (!iface.isInterface()) {
            throw new IllegalArgumentException("ref needs an interface, not class " + iface.getName());
        }
        if (!iface.isInstance(impl)) {
            throw new IllegalArgumentException(impl.getClass().getName() + " does not implement " + iface.getName());
        }
        if (isReference(impl)) {
            return impl;
        }
        RefHandler h = exports.export(iface, impl, handle ->
            new RefHandler(this, new RefDescriptor(id, address(), handle, iface.getName())));
        return iface.cast(h.proxy(iface));
    }

    @Override
    public <T> T listen(String name, Class<T> iface, T impl) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("service name must not be blank");
        }
        if (name.startsWith(OWN_SERVICES)) {
            // the runtime's own (circuit.ops) and its host's: replaced, every tool would lose this worker
            throw new IllegalArgumentException("service name '" + name + "' is reserved: names starting with '"
                + OWN_SERVICES + "' are JCircuit's");
        }
        return publish(name, iface, impl);
    }

    /**
     * Publishes one of JCircuit's own services (the ops service, a host's), whose names start with
     * {@code circuit.}, which {@link #listen} refuses. Not for applications.
     */
    public <T> T listenOwn(String name, Class<T> iface, T impl) {
        if (name == null || !name.startsWith(OWN_SERVICES)) {
            throw new IllegalArgumentException("JCircuit's own service names start with '" + OWN_SERVICES + "', not " + name);
        }
        return publish(name, iface, impl);
    }

    private <T> T publish(String name, Class<T> iface, T impl) {
        T ref = ref(iface, impl);
        serve(ref);
        Object replaced = services.put(name, ref);
        unserve(replaced); // the object it replaces is collected once nothing else holds it
        if (replaced != null) {
            swapStepDone(); // it may have been the last frozen one: what waits for none goes on now
        }
        return ref;
    }

    @Override
    public void unlisten(String name) {
        Object removed = services.remove(name);
        unserve(removed);
        unserve(forwarded.remove(name));
        if (removed != null) {
            swapStepDone(); // it may have been the last frozen one: what waits for none goes on now
        }
    }

    /** {@code ref}, a reference, is published under a name: kept while it is, when its object lives here. */
    private void serve(Object ref) {
        RefDescriptor d = descriptorOf(ref);
        if (d.home().equals(id)) {
            exports.serve(d.handle());
        }
    }

    /** {@code ref} (a reference, or null) is no longer published under a name it was. */
    private void unserve(Object ref) {
        if (ref != null) {
            RefDescriptor d = descriptorOf(ref);
            if (d.home().equals(id)) {
                exports.unserve(d.handle());
            }
        }
    }

    /**
     * Opens the link to worker {@code id} at {@code address} in the background and returns at once, so
     * that the first call between the two, in either direction, finds it up. A spawned worker does this
     * for its spawner while it files itself. A failure is only logged: the first call dials again and
     * reports it.
     */
    public void connectAhead(WorkerId id, Address address) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        if (!id.equals(this.id())) {
            peers.connectAhead(id, address);
        }
    }

    @Override
    public Worker worker(Address address) {
        ensureOpen();
        Objects.requireNonNull(address, "address");
        if (address.equals(address())) {
            return self;
        }
        // the connect timeout, or the caller's deadline when that comes first
        long connectBy = System.nanoTime() + config.link().connectTimeoutMs() * 1_000_000L;
        java.util.OptionalLong callers = io.jcircuit.Deadline.currentNanoTime();
        boolean callersFirst = callers.isPresent() && callers.getAsLong() - connectBy < 0;
        PeerSession s;
        String why = "nothing answered at " + address + " within the connect timeout of " + config.link().connectTimeoutMs()
            + " ms (no runtime listens there, or it does not answer)";
        try {
            s = peers.sessionAt(address, callersFirst ? callers.getAsLong() : connectBy);
        } catch (io.jcircuit.DeadlineExceededException e) {
            if (callersFirst) {
                throw e;
            }
            // as a handshake that timed out: nothing was sent, and whatever is there did not answer
            throw new io.jcircuit.WorkerDiedException(null, false, why, new io.jcircuit.link.HandshakeTimeoutException(why));
        } catch (io.jcircuit.WorkerDiedException e) {
            if (e.getCause() instanceof io.jcircuit.link.HandshakeTimeoutException) {
                // the dial's own handshake timer, which runs out with the wait above: said the same way
                // whichever of the two comes first
                throw new io.jcircuit.WorkerDiedException(null, false, why, e.getCause());
            }
            throw e;
        }
        return new RemoteWorker(this, s.link.peer(), s.link.peerAddress());
    }

    @Override
    public Worker homeOf(Object reference) {
        RefDescriptor d = descriptorOf(reference);
        return d.home().equals(id) ? self : new RemoteWorker(this, d.home(), d.address());
    }

    @Override
    public boolean isReference(Object object) {
        return object != null && Proxy.isProxyClass(object.getClass())
            && Proxy.getInvocationHandler(object) instanceof RefHandler;
    }

    /**
     * Waits for the connection to ZooKeeper (and the embedded one, if so configured) that {@code joining}
     * makes, and files this runtime.
     */
    private void joinNamespace(CompletableFuture<Joined> joining) {
        Joined joined;
        try {
            joined = joining.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
        embeddedZooKeeper = joined.embedded();
        namespace = joined.namespace();
        String connect = namespace.config().connectString();
        Entry me = new Entry("/worker/" + id, id, address(), hostName(), ProcessHandle.current().pid(), Instant.now(), Map.of());
        anchors = new NamespaceAnchors(namespace, me,
            e -> e.worker().equals(id) ? self : new RemoteWorker(this, e.worker(), e.address()), config.entryMetadata());
        holderDeaths = anchors.subscribeFromItsFirstListing("/worker", new Membership() {
            @Override
            public void joined(Entry e) {
                transport.peerBack(e.worker());
            }

            @Override
            public void left(Entry e) {
                WorkerId peer = e.worker();
                if (!peers.hasLiveSession(peer)) {
                    exports.dropHolder(peer); // a dead runtime holds nothing
                    transport.peerGone(peer, "worker " + peer + " left /worker while out of reach");
                    return;
                }
                // With a session, it may have ended (its host saw the process exit and removed its
                // entries) or only its ZooKeeper session expired: paused past the session timeout, cut
                // off from ZooKeeper, or ZooKeeper away. Its host knows which. A process that runs
                // keeps its session for the link's outage limit (DESIGN §4), and files itself again.
                Thread.ofVirtual().name("circuit-peer-left-" + peer).start(() -> {
                    boolean runs;
                    try {
                        runs = spawning.anyHostRuns(peer);
                    } catch (RuntimeException unknown) {
                        runs = false;
                    }
                    if (runs) {
                        LOG.info("worker {} left /worker but its host still runs it: its session stays for the outage limit", peer);
                        return;
                    }
                    boolean connected = peers.isConnected(peer);
                    if (!connected) {
                        // One whose link is connected is alive: its holds go when its session ends (onLinkDown).
                        exports.dropHolder(peer);
                    }
                    // A session already in an outage need not wait for its limit: its host saw the
                    // process exit, or it was no host's and its ZooKeeper session expired too. A connected
                    // one ends at its next outage only if nothing comes from the peer before: one that
                    // lost only its ZooKeeper session still answers, and rides out outages like any other.
                    transport.peerGone(peer, "worker " + peer + " left /worker while out of reach");
                    if (connected) {
                        LOG.info("worker {} left /worker while its link is up: its session ends at its next outage"
                            + " unless something comes from it first", peer);
                    }
                });
            }
        });
        durable = new NamespaceDurable(namespace, new ValueCodec() {
            @Override
            public byte[] encode(Object value) {
                try {
                    return codec.encodeValue(value);
                } catch (io.jcircuit.codec.CodecException e) {
                    throw new io.jcircuit.UnwritableValueException(e.getMessage(), e); // as a call's argument is refused
                }
            }

            @Override
            public Object decode(byte[] bytes) {
                try {
                    return codec.decodeValue(bytes);
                } catch (io.jcircuit.codec.CodecException e) {
                    if (e.beyondReaderLimits()) {
                        // well formed, only of a class this runtime lacks (or too deep): said as calls say it
                        throw new io.jcircuit.UnreadableValueException(e.getMessage(), e);
                    }
                    throw e;
                }
            }
        }, config.clusterKey() == null ? null : new ClusterSeal(config.clusterKey()));
        Namespace ns = namespace;
        forwardingRecords = new ForwardingRecords(durable, id, new ForwardingRecords.Liveness() {
            @Override
            public ForwardingRecords.Signs signsOfLife(WorkerId worker) {
                return CircuitRuntime.this.signsOfLife(worker);
            }

            @Override
            public ForwardingRecords.HostsSaid hostsMayRun(java.util.Set<WorkerId> workers) {
                return spawning.hostsMayRun(anchors, workers);
            }
        }, ns::isConnected, ns::whenConnected, w -> {
                if (ns.hasEntry("/worker/" + w)) {
                    ns.removeEntriesOf(w); // left by its end while ZooKeeper was away: see forgetForwardsTo
                }
            });
        deployments = new io.jcircuit.runtime.host.Deployments(namespace, config.clusterKey());
        LOG.debug("runtime {} joined the namespace at {}", id, connect);
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    @Override
    public <R> Spawned<R> spawn(String host, java.util.List<String> anchors, Fn<R> fn, SpawnOptions options) {
        requireHost(host);
        anchors(); // says how to get a namespace when there is none
        return spawning.spawn(host, anchors, fn, options);
    }

    @Override
    public <T> io.jcircuit.Chan<T> makeChan(int capacity) {
        LocalChan core = new LocalChan(capacity);
        io.jcircuit.Chan<T> chan = new io.jcircuit.Chan<>(ref(io.jcircuit.ChanCore.class, core));
        chans.add(core);
        if (closed.get()) {
            core.ownerClosed(); // closed meanwhile, after close had told the others
        }
        return chan;
    }

    @Override
    public io.jcircuit.Proc exec(String host, io.jcircuit.ExecSpec spec) {
        requireHost(host);
        anchors();
        return spawning.exec(host, spec);
    }

    /** A null host is more likely a caller's bug than a wish for any host (it went to any host, unsaid). */
    private static void requireHost(String host) {
        Objects.requireNonNull(host, "host is null: name a host daemon, or pass Circuit.ANY_HOST for any");
    }

    Spawning spawning() {
        anchors();
        return spawning;
    }

    @Override
    public Anchors anchors() {
        ensureOpen();
        if (anchors == null) {
            throw noNamespace();
        }
        return anchors;
    }

    @Override
    public Durable durable() {
        ensureOpen();
        if (durable == null) {
            throw noNamespace();
        }
        return durable;
    }

    /** The deployment records, checked with this runtime's cluster key. */
    public io.jcircuit.runtime.host.Deployments deployments() {
        durable(); // says how to get a namespace when there is none
        return deployments;
    }

    /** See {@link LinkTransport#stalledNanos}. */
    long transportStalledNanos(long now) {
        return transport.stalledNanos(now);
    }

    /** True once {@link #close} has begun. */
    boolean isClosed() {
        return closed.get();
    }

    /**
     * Throws {@link IllegalStateException} once {@link #close} has begun: nothing starts on a closed
     * runtime, calls on references into it and from it included. (Calls already under way when it
     * closes fail with {@link io.jcircuit.WorkerDiedException}, as a link that breaks.)
     */
    void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("runtime " + id + " is closed");
        }
    }

    private IllegalStateException noNamespace() {
        return new IllegalStateException("runtime " + id + " has no namespace: start it with "
            + "RuntimeConfig.builder().zookeeper(\"host:port\") or .embeddedZooKeeper(stateDir)");
    }

    @Override
    public io.jcircuit.Subscription intercept(io.jcircuit.CallInterceptor interceptor) {
        return instrumentation.add(interceptor);
    }

    @Override
    public io.jcircuit.Settings settings() {
        return settings;
    }

    /** The call metrics this runtime keeps, or null when they are off ({@link RuntimeConfig#callMetrics}). */
    public io.jcircuit.runtime.ops.CallMetrics callMetrics() {
        return instrumentation.metrics();
    }

    // ------------------------------------------------------------------ hot swap

    /** The export behind the service {@code name}, or an error naming the services there are. */
    /** Whether a hot swap's freeze holds service {@code name}'s calls at its door now, for tests. */
    boolean serviceFrozen(String name) {
        return serviceExport(name).gate().frozen();
    }

    private Export serviceExport(String name) {
        Object ref = services.get(name);
        if (ref == null) {
            throw new IllegalArgumentException("worker " + id + " has no service '" + name + "'; it has "
                + new java.util.TreeSet<>(services.keySet()));
        }
        Export e = exports.get(descriptorOf(ref).handle());
        if (e == null) {
            throw new IllegalStateException("the export of service '" + name + "' is gone");
        }
        return e;
    }

    /**
     * First step of a hot swap of service {@code name}: new calls on it wait, and this returns once the
     * calls it was running have ended, with its {@link io.jcircuit.Swappable#snapshot} (null when it
     * keeps none). If calls are still running after {@code drain}, the service reopens and this throws.
     */
    public Object freezeService(String name, java.time.Duration drain) throws InterruptedException {
        Export e = serviceExport(name);
        int left = e.gate().freeze(drain.toNanos());
        if (left > 0) {
            int running = left - e.gate().pendingCount();
            if (running > 0) {
                e.gate().reopen();
                swapStepDone();
                throw new IllegalStateException("service '" + name + "' on worker " + id + " still ran " + running
                    + " calls after " + drain.toMillis() + " ms; reopened it");
            }
            // only asynchronous calls whose futures have not completed (a long poll that a call now held at the
            // door would end, say): their callers are told the swap went on without them
            int abandoned = e.gate().abandonPending();
            LOG.info("service '{}': {} asynchronous calls whose futures had not completed after {} ms are failed for the swap",
                name, abandoned, drain.toMillis());
        }
        long number = e.gate().freezeNumber();
        try {
            Object state = e.impl() instanceof io.jcircuit.Swappable s ? s.snapshot() : null;
            LOG.info("service '{}' frozen for a hot swap; {}", name, state == null ? "no state" : "state taken");
            // A swap whose worker and swapper both died leaves it frozen: let go after a while, and the
            // forward of a swap that slow is refused (its state would miss the calls served since).
            java.time.Duration limit = freezeLimit;
            java.util.concurrent.CompletableFuture.delayedExecutor(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .execute(() -> {
                    if (e.gate().reopenIfStillFrozen(number)) {
                        LOG.warn("service '{}' was frozen for a hot swap {} ms ago, which neither went on nor back: reopened",
                            name, limit.toMillis());
                        swapStepDone();
                    }
                });
            return state;
        } catch (RuntimeException | Error t) {
            e.gate().reopen();
            swapStepDone();
            throw t;
        }
    }

    /**
     * Guards {@link #whenNoneFrozen}: a look at the gates and the registration of a wait are one step, and
     * so are a forward's change of its gate and the move of its name to {@link #forwarded}.
     */
    private final Object swapSteps = new Object();
    /** What {@link #whenNoServiceFrozen} runs once no service is frozen; guarded by {@link #swapSteps}. */
    private final java.util.List<Runnable> whenNoneFrozen = new java.util.ArrayList<>();

    /**
     * Runs {@code action} once no service of this runtime is frozen by a hot swap: at once, on this thread,
     * when none is now; else on the thread of the step that lets the last one go (its forward, its roll-back,
     * or the reopen of {@link #FREEZE_LIMIT}), once that step's bookkeeping is done (a forwarded service is
     * listed as such). A service frozen meanwhile is waited for too. {@code action} must be quick and must
     * not throw: it runs inside that step.
     */
    void whenNoServiceFrozen(Runnable action) {
        java.util.Objects.requireNonNull(action, "action");
        synchronized (swapSteps) {
            if (anyServiceFrozen()) {
                whenNoneFrozen.add(action);
                return;
            }
        }
        action.run();
    }

    /**
     * A freeze was let go (forwarded, reopened): runs what waited for no service to be frozen, if none is
     * now. Every step that lets a freeze go calls this once its bookkeeping is done.
     */
    private void swapStepDone() {
        java.util.List<Runnable> run;
        synchronized (swapSteps) {
            if (whenNoneFrozen.isEmpty() || anyServiceFrozen()) {
                return;
            }
            run = java.util.List.copyOf(whenNoneFrozen);
            whenNoneFrozen.clear();
        }
        run.forEach(Runnable::run);
    }

    private boolean anyServiceFrozen() {
        for (Object ref : services.values()) {
            Export e = exports.get(descriptorOf(ref).handle());
            if (e != null && e.gate().frozen()) {
                return true;
            }
        }
        return false;
    }

    /** The longest a service stays frozen for a hot swap that neither forwards it nor rolls back. */
    static final java.time.Duration FREEZE_LIMIT = java.time.Duration.ofMinutes(2);

    /** {@link #FREEZE_LIMIT}, shorter in tests. */
    private volatile java.time.Duration freezeLimit = FREEZE_LIMIT;

    /** Sets how long a service stays frozen by a swap that neither forwards nor rolls back; for tests. */
    void freezeLimit(java.time.Duration limit) {
        freezeLimit = java.util.Objects.requireNonNull(limit, "limit");
    }

    /**
     * Last step of a hot swap: calls waiting on, and later made to, service {@code name} (through any
     * reference to it) go to {@code replacement}, and the name is no longer served here: a lookup of it
     * answers with {@code replacement}. Callers follow the move once and stay with the replacement.
     * With a durable store, a forwarding record ({@link #movedPath}) tells callers that call only after
     * this runtime has ended where the service went. It is written before this returns when it can be;
     * when ZooKeeper is away, it is written again until it is back (this does not wait for that), and a
     * retiring worker waits for it ({@code Ops.retire}).
     */
    public void forwardService(String name, Object replacement) {
        Export e = serviceExport(name);
        if (!isReference(replacement) || !e.iface().isInstance(replacement)) {
            throw new IllegalArgumentException("the replacement of service '" + name + "' must be a reference to a "
                + e.iface().getName() + ", not " + replacement);
        }
        if (homeOf(replacement).id().equals(id)) {
            throw new IllegalArgumentException("the replacement of service '" + name + "' lives on this worker");
        }
        synchronized (swapSteps) {
            // one step for whenNoServiceFrozen: a look between the gate's forward and the name's move to
            // forwarded found nothing frozen and nothing forwarded, and an orphaned swap's finish took the
            // swap for rolled back and left the worker forwarding for ever
            e.gate().forward(replacement);
            Object ref = services.remove(name);
            if (ref != null) {
                forwarded.put(name, ref);
            }
        }
        try {
            if (forwardingRecords != null) {
                // for callers that call only after this worker is gone: where the object went, by its old address
                // (written again until it is when ZooKeeper is away; a retiring worker waits for it)
                RefDescriptor to = descriptorOfReference(replacement);
                forwardingRecords.store(e.handle(), replacement, to.home(), to.handle());
            }
            LOG.info("service '{}' forwarded to {}", name, replacement);
        } finally {
            swapStepDone();
        }
    }

    /** Where the durable store keeps the replacement of export {@code handle} of worker {@code worker} after a hot swap. */
    static String movedPath(WorkerId worker, long handle) {
        return ForwardChains.recordPath(worker, handle);
    }

    /**
     * The replacement a hot swap recorded for the export {@code d} names, if any: how a caller whose
     * reference points at a worker that swapped and exited finds the object again.
     */
    Optional<Object> movedTo(RefDescriptor d) {
        if (durable == null) {
            return Optional.empty();
        }
        try {
            return durable.get(movedPath(d.home(), d.handle()), Object.class).filter(this::isReference);
        } catch (RuntimeException e) {
            LOG.debug("no forwarding record for {}: {}", d, e.toString());
            return Optional.empty();
        }
    }

    /**
     * A hot swap of service {@code name} rolled back: it serves here again. That holds for a service
     * already forwarded too (its replacement died before the swap was over): it is taken back, and calls
     * run here again, on the state it had when it was frozen.
     */
    public void reopenService(String name) {
        Object ref = forwarded.get(name);
        if (ref != null && !services.containsKey(name)) {
            Export e = exports.get(descriptorOf(ref).handle());
            if (e == null) {
                throw new IllegalStateException("the export of service '" + name + "' is gone");
            }
            if (services.putIfAbsent(name, ref) != null) {
                throw new IllegalStateException("service '" + name + "' was forwarded, and the name serves another object now");
            }
            forwarded.remove(name, ref);
            Object was = e.gate().forwardedTo();
            e.gate().reopen();
            if (forwardingRecords != null) {
                forwardingRecords.remove(e.handle()); // removed once it can be, as it was stored
            }
            LOG.warn("service '{}' taken back from {}: the hot swap rolled back after the forward", name, was);
            return;
        }
        serviceExport(name).gate().reopen();
        LOG.info("service '{}' reopened: the hot swap rolled back", name);
        swapStepDone();
    }

    /** How many forwarding records of this runtime's hot swaps are not written yet; for tests. */
    int forwardingRecordsUnwritten() {
        return forwardingRecords == null ? 0 : forwardingRecords.unwritten();
    }

    /**
     * Worker {@code ended} has ended (its process is gone, crashed or not): the forwarding records of hot
     * swaps that lead only to it, and so to no live worker, are deleted from the durable store (see the
     * README's "Hot swap"). It returns at once when ZooKeeper is away, and they are deleted as soon as it
     * is back, for as long as this runtime runs. Its entries, when some are left (its host could not remove
     * them at its end: ZooKeeper was away), are removed first: a record that its old worker writes only
     * once ZooKeeper is back then sees that it has ended, and goes too ({@link ForwardingRecords}). A host
     * daemon calls this for each of its workers that ends; a runtime does the same for itself as it closes.
     * Does nothing without a durable store.
     */
    public void forgetForwardsTo(WorkerId ended) {
        if (forwardingRecords != null) {
            forwardingRecords.forgetEnded(ended);
        }
    }

    /**
     * As {@link #forgetForwardsTo}, for every worker that forwarding records point at and that has ended
     * ({@link #signsOfLife}), told or not: what a worker that ended unseen left (it ended
     * while ZooKeeper was away, and its host ended too before it came back). A host daemon calls this
     * as it starts. Returns at once; the work waits for ZooKeeper when it is away.
     */
    public void forgetForwardsToEndedWorkers() {
        if (forwardingRecords != null) {
            forwardingRecords.forgetAllEnded();
        }
    }

    /**
     * Tells this runtime which workers the process it runs in knows to run although they may not be filed:
     * a host daemon's own workers (those it counts, and those whose process its workers directory names and
     * runs). Such a worker is never taken for ended ({@link #signsOfLife}).
     */
    public void knowsRunning(java.util.function.Predicate<WorkerId> running) {
        runsHere = java.util.Objects.requireNonNull(running, "running");
    }

    /**
     * Whether {@code worker} lives, or may, as far as can be told without asking another runtime: the forwarding
     * records of hot swaps take a worker for ended, for good, when this is {@code NONE} and every host answers that
     * it does not run it ({@link Spawning#hostsMayRun}, asked without their lock). {@code FILED} when it is this
     * runtime, has a {@code /worker} entry, or the process this runs in knows it to run ({@link #knowsRunning});
     * {@code LINKED} when a connected session with this runtime is the only sign, which a worker that ended a moment
     * ago still shows (its link's end is seen after its process's, and its host may have looked at its end already).
     * A worker that only lost its ZooKeeper session for a while (paused, or cut off past the session's timeout) has
     * no entry until it files itself again, but its host still runs it: the membership's rule
     * ({@link Spawning#anyHostRuns}), save that a host that cannot be asked may run it. Throws when ZooKeeper is
     * away.
     */
    ForwardingRecords.Signs signsOfLife(WorkerId worker) {
        if (worker.equals(id) || runsHere.test(worker) || namespace.hasEntry("/worker/" + worker)) {
            return ForwardingRecords.Signs.FILED;
        }
        return peers.isConnected(worker) ? ForwardingRecords.Signs.LINKED : ForwardingRecords.Signs.NONE;
    }

    /** Sets how long the hosts are asked at most whether they run a worker (all at once); for tests. */
    void hostsAskLimit(java.time.Duration limit) {
        spawning.hostsAskLimit(limit);
    }

    /** How many ended workers' forwarding records are still to be deleted; for tests. */
    int forwardsToForget() {
        return forwardingRecords == null ? 0 : forwardingRecords.unforgotten();
    }

    /** True while forwarding records that could not be written (or deleted) wait for ZooKeeper; for tests. */
    boolean forwardingRecordsWaiting() {
        return forwardingRecords != null && forwardingRecords.waiting();
    }

    /** Sets the longest wait between two writes of a forwarding record that no reconnection cuts short; for tests. */
    void forwardingRecordsRetryFallback(java.time.Duration wait) {
        if (forwardingRecords != null) {
            forwardingRecords.retryFallback(wait);
        }
    }

    /** What the ops service sees of this runtime. */
    private final class OpsView implements io.jcircuit.runtime.ops.OpsService.RuntimeView {
        @Override
        public boolean isClosed() {
            return CircuitRuntime.this.isClosed();
        }

        @Override
        public io.jcircuit.Subscription whenHomeEnds(Object reference, Runnable action) {
            // a channel is a value around a reference to its owner's core
            WorkerId home = homeOf(reference instanceof io.jcircuit.Chan<?> c ? c.core() : reference).id();
            if (home.equals(id)) {
                return () -> { }; // its home is this runtime: it ends with it
            }
            return whenPeerEnds(home, reason -> action.run());
        }

        @Override
        public String worker() {
            return id.toString();
        }

        @Override
        public String address() {
            return CircuitRuntime.this.address().toString();
        }

        @Override
        public String host() {
            return hostName();
        }

        @Override
        public long startedMillis() {
            return startedMillis;
        }

        @Override
        public java.util.List<String> anchors() {
            if (anchors == null) {
                return java.util.List.of();
            }
            java.util.List<String> dirs = new java.util.ArrayList<>();
            dirs.add("/worker");
            dirs.addAll(anchors.filed());
            return dirs;
        }

        @Override
        public java.util.List<String> services() {
            return new java.util.TreeSet<>(services.keySet()).stream().toList();
        }

        @Override
        public java.util.List<io.jcircuit.runtime.ops.OpsInfo.ServiceType> serviceTypes() {
            java.util.List<io.jcircuit.runtime.ops.OpsInfo.ServiceType> types = new java.util.ArrayList<>();
            for (String name : new java.util.TreeSet<>(services.keySet())) {
                if (name.equals(io.jcircuit.runtime.ops.Ops.SERVICE)) {
                    continue;
                }
                Export e = exports.get(descriptorOf(services.get(name)).handle());
                if (e != null) {
                    types.add(new io.jcircuit.runtime.ops.OpsInfo.ServiceType(name, e.iface().getName(),
                        e.impl().getClass().getName(), remoteMethods(e.iface())));
                }
            }
            return types;
        }

        @Override
        public java.util.List<String> peers() {
            return links().stream().map(l -> l.peer().toString()).distinct().sorted().toList();
        }

        @Override
        public io.jcircuit.runtime.ops.CallMetrics metrics() {
            return instrumentation.metrics();
        }

        @Override
        public int callsRunning() {
            return dispatcher.running();
        }

        @Override
        public int heldRemotely() {
            return exports.heldRemotelyBesidesServices();
        }

        @Override
        public int forwardingRecordsUnwritten() {
            return CircuitRuntime.this.forwardingRecordsUnwritten();
        }

        @Override
        public int awaitCallsRunningAtMost(int n, long deadline) throws InterruptedException {
            return dispatcher.awaitRunningAtMost(n, deadline);
        }

        @Override
        public java.util.List<String> withdrawAnchors() {
            return anchors == null ? java.util.List.of() : anchors.withdraw();
        }

        @Override
        public java.util.List<String> stopServices() {
            java.util.List<String> stopped = new java.util.ArrayList<>();
            for (String name : new java.util.TreeSet<>(services.keySet())) {
                if (!name.equals(io.jcircuit.runtime.ops.Ops.SERVICE)) {
                    services.remove(name);
                    stopped.add(name);
                }
            }
            return stopped;
        }

        @Override
        public void close() {
            CircuitRuntime.this.close();
        }

        @Override
        public Object freezeService(String name, java.time.Duration drain) throws InterruptedException {
            return CircuitRuntime.this.freezeService(name, drain);
        }

        @Override
        public void forwardService(String name, Object replacement) {
            CircuitRuntime.this.forwardService(name, replacement);
        }

        @Override
        public void reopenService(String name) {
            CircuitRuntime.this.reopenService(name);
        }

        @Override
        public java.util.List<String> frozenServices() {
            java.util.List<String> frozen = new java.util.ArrayList<>();
            for (String name : new java.util.TreeSet<>(services.keySet())) {
                Object ref = services.get(name);
                Export e = ref == null ? null : exports.get(descriptorOf(ref).handle());
                if (e != null && e.gate().frozen()) {
                    frozen.add(name);
                }
            }
            return frozen;
        }

        @Override
        public void whenNoServiceFrozen(Runnable action) {
            CircuitRuntime.this.whenNoServiceFrozen(action);
        }

        @Override
        public java.util.List<String> forwardedServices() {
            return new java.util.TreeSet<>(forwarded.keySet()).stream().toList();
        }

        @Override
        public java.util.List<String> forwardedToTheUnreachable() {
            java.util.List<String> lost = new java.util.ArrayList<>();
            for (String name : new java.util.TreeSet<>(forwarded.keySet())) {
                Object ref = forwarded.get(name);
                Export e = ref == null ? null : exports.get(descriptorOf(ref).handle());
                Object to = e == null ? null : e.gate().forwardedTo();
                if (to != null && !peers.isConnected(homeOf(to).id())) {
                    lost.add(name);
                }
            }
            return lost;
        }
    }

    /** What this runtime is doing for other runtimes now. */
    public Activity activity() {
        return new Activity(dispatcher.running(), dispatcher.gosDone(), exports.heldRemotely());
    }

    /** The embedded ZooKeeper this runtime started, if any. */
    public Optional<String> embeddedZooKeeperConnectString() {
        return Optional.ofNullable(embeddedZooKeeper).map(EmbeddedZooKeeper::connectString);
    }

    /** How long {@link #close} waits at most for this runtime's channel copies to ship what their sends buffered. */
    static final long CHAN_FLUSH_ON_CLOSE_MS = 5_000;

    @Override
    public void close() {
        if (closed.get()) {
            return;
        }
        if (transport != null) {
            transport.checkClosableHere(); // before anything is closed: the transport's close would refuse later
        }
        flushChanCopies(); // while the links still run: the items of sends that returned are not to be lost
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (namespace != null) {
            namespace.beginClose(); // the watches below go with the session, not each with a round trip
        }
        if (holderDeaths != null) {
            holderDeaths.close();
        }
        if (forwardingRecords != null) {
            forwardingRecords.close(); // what is still not written is logged: a retiring worker waited for it
        }
        if (anchors != null) {
            anchors.close(); // entries go at once, before the links
        }
        if (namespace != null) {
            namespace.close();
        }
        if (transport != null) {
            quiesce();
            transport.close();
        }
        imports.close(); // its pins: each held its handler, and through it this runtime, for a minute
        acquires.close(); // those waiting to be tried again: each waited up to half a minute
        // Only now that no remote copy can call again: woken earlier, their calls came back at once, empty,
        // and were made again in a loop for as long as the anchors and the namespace took to close.
        java.util.List<LocalChan> owned;
        synchronized (chans) {
            owned = java.util.List.copyOf(chans);
        }
        owned.forEach(LocalChan::ownerClosed); // the owner's own copy's waiters fail now
        dispatcher.close();
        callDeadlines.close();
        if (embeddedZooKeeper != null) {
            embeddedZooKeeper.close();
        }
        LOG.debug("runtime {} closed", id);
    }

    /** The longest a close waits for the requests it took that have not begun to run to be answered. */
    static final java.time.Duration QUIESCE_LIMIT = java.time.Duration.ofSeconds(1);

    /** {@link #QUIESCE_LIMIT}, longer in tests that act while a close waits. */
    private volatile java.time.Duration quiesceLimit = QUIESCE_LIMIT;

    /** Sets how long a close waits for the requests it took that have not begun to run; for tests. */
    void quiesceLimit(java.time.Duration limit) {
        quiesceLimit = java.util.Objects.requireNonNull(limit, "limit");
    }

    /**
     * The step of a close before the goodbyes, so that the callers of calls that were not run here learn
     * that they were not ({@code outcomeUnknown()} false), and a caller of a service that a hot swap
     * forwarded follows it: a call that has not begun to run is refused from now on; the links take no
     * more requests, and their goodbyes will say which they took ({@link io.jcircuit.link.Link#close});
     * and the requests taken that have not begun are answered (a move, a refusal) before the goodbyes.
     * Calls running now are not waited for: their outcome stays unknown to their callers.
     */
    private void quiesce() {
        dispatcher.beginClose();
        transport.stopDelivering();
        peers.openSessions().forEach(dispatcher::refuseParked); // taken past a peer's incoming limit, never run
        try {
            int left = dispatcher.awaitDecided(System.nanoTime() + quiesceLimit.toNanos());
            if (left > 0) {
                LOG.debug("runtime {} closing: {} requests that had not begun to run were not answered in time", id, left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Ships what the channel copies whose calls go through this runtime have buffered (the items of sends
     * that returned), to channels that other runtimes own, within {@link #CHAN_FLUSH_ON_CLOSE_MS} or the default call timeout, whichever is less:
     * a copy that waits for room in a full channel nobody receives from holds close up that long. What could
     * not go is logged.
     */
    private void flushChanCopies() {
        long ms = Math.min(CHAN_FLUSH_ON_CLOSE_MS, config.defaultCallTimeoutMs());
        java.util.List<RuntimeException> failures = io.jcircuit.Deadline.within(java.time.Duration.ofMillis(ms),
            () -> io.jcircuit.Chan.flushBuffered(core -> Proxy.isProxyClass(core.getClass())
                && Proxy.getInvocationHandler(core) instanceof RefHandler h && h.runtime() == this
                && !h.current().home().equals(id))); // a channel this runtime owns closes with it: nothing to ship to
        if (!failures.isEmpty()) {
            LOG.warn("runtime {} closing: {} channel copies could not ship the items their sends had buffered; the"
                + " first failed with", id, failures.size(), failures.getFirst());
        }
    }

    /**
     * The methods of {@code iface} that a reference's caller sends to its object, as {@code
     * name(binary,type,names)}: those are how a call finds its method (default methods run on the
     * caller's proxy). Sorted.
     */
    public static java.util.List<String> remoteMethods(Class<?> iface) {
        java.util.TreeSet<String> s = new java.util.TreeSet<>();
        for (java.lang.reflect.Method m : iface.getMethods()) {
            if (!m.isDefault() && !java.lang.reflect.Modifier.isStatic(m.getModifiers()) && m.getDeclaringClass() != Object.class) {
                s.add(Export.signature(m));
            }
        }
        return java.util.List.copyOf(s);
    }

    /** Where calls on {@code reference} go now (after any hot swap it followed). */
    static RefDescriptor descriptorOfReference(Object reference) {
        descriptorOf(reference); // throws for anything but a reference
        return ((RefHandler) Proxy.getInvocationHandler(reference)).current();
    }

    private static RefDescriptor descriptorOf(Object reference) {
        if (reference == null || !Proxy.isProxyClass(reference.getClass())
            || !(Proxy.getInvocationHandler(reference) instanceof RefHandler h)) {
            throw new IllegalArgumentException("not a reference: " + reference
                + " (make one with Circuit.ref(Iface.class, object))");
        }
        return h.target();
    }

    /**
     * Sends one home the releases of references this runtime dropped (see {@link ImportTable}), over the
     * session with it that is up. Never dials: what home counts for this runtime it counted in a session,
     * and drops when the last session with it ends; with none up there is nothing to give back, and
     * releases sent into a later session would take holds that session counted. (Before, a release
     * dialed a peer just declared dead, during its outage, and a call made once the network healed
     * joined that dial, lost with the network.)
     */
    private void sendReleases(java.util.List<ImportTable.Pending> queued) {
        if (closed.get()) {
            return;
        }
        ImportTable.Pending first = queued.getFirst();
        PeerSession s = peers.liveSession(first.home());
        if (s == null) {
            LOG.debug("{} releases for worker {} dropped: no session with it is up, so it holds nothing of this runtime's",
                queued.size(), first.home());
            return;
        }
        // looked at again once the session is found: s may have begun after the sessions these were counted in ended
        java.util.List<ImportTable.Pending> batch = imports.current(queued);
        for (int from = 0; from < batch.size(); from += MessageCodec.MAX_RELEASE_ENTRIES) {
            int to = Math.min(batch.size(), from + MessageCodec.MAX_RELEASE_ENTRIES);
            long[] handles = new long[to - from];
            long[] counts = new long[to - from];
            for (int i = from; i < to; i++) {
                handles[i - from] = batch.get(i).handle();
                counts[i - from] = batch.get(i).count();
            }
            ByteBuf frame = FrameCodec.begin(s.link.alloc(), FrameCodec.TYPE_DATA, 16 + handles.length * 16);
            codec.encode(new Message.Release(0, handles, counts), frame, s.link.peer());
            s.link.send(FrameCodec.finish(frame), false);
        }
    }

    ImportTable imports() {
        return imports;
    }

    Acquires acquires() {
        return acquires;
    }

    /**
     * {@code frame}, encoded for {@code peer}, will not be sent: the holds it counted for {@code peer}
     * are undone (see {@link MessageCodec#holds}). Call before releasing the frame.
     */
    void unsent(WorkerId peer, ByteBuf frame) {
        unsent(peer, MessageCodec.holds(frame, frame.readerIndex() + FrameCodec.HEADER_LENGTH));
    }

    /** {@code peer} will not get the references to these exports that were counted as held by it: undone. */
    void unsent(WorkerId peer, long[] handles) {
        if (handles.length > 0) {
            exports.unsent(peer, handles);
        }
    }

    /**
     * A message from {@code s}'s peer could not be read here ({@code e}): the peer's own references in it
     * that were not read are released there, as they would have been once dropped. Only when the link
     * is sound (the message was well formed, {@link io.jcircuit.codec.CodecException#beyondReaderLimits}):
     * otherwise the link is closed, and with it the session and every hold the peer counted for this runtime.
     */
    void unread(PeerSession s, io.jcircuit.codec.CodecException e) {
        if (e.beyondReaderLimits() && e.holds().length > 0) {
            imports.releaseUnread(s.link.peer(), s.link.peerAddress(), e.holds());
        }
    }

    /**
     * The reference a lookup of {@code name} answers, or null. A service a hot swap forwarded answers
     * with its replacement, as every reference to it does: this worker may still be found under its
     * anchors (until its drain) or in a listing taken before, and is no longer where the name is served.
     */
    Object service(String name) {
        Object ref = services.get(name);
        if (ref != null) {
            return ref;
        }
        Object was = forwarded.get(name);
        if (was == null) {
            return null;
        }
        Export e = exports.get(descriptorOf(was).handle());
        return e == null ? null : e.gate().forwardedTo(); // null once taken back: then the name is served again
    }

    RuntimeConfig config() {
        return config;
    }

    /** The fingerprint of the cluster key this runtime links with, or empty when it has none. */
    public Optional<String> clusterKeyFingerprint() {
        return Optional.ofNullable(config.clusterKey()).map(io.jcircuit.link.tls.ClusterKey::fingerprint);
    }

    MessageCodec codec() {
        return codec;
    }

    Invoker invoker() {
        return invoker;
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }

    ExportTable exports() {
        return exports;
    }

    /**
     * Runs {@code action} (once, on a virtual thread, given the reason) when the session with {@code peer} ends by the
     * peer's doing: it said goodbye (its runtime closed), its runtime stopped (the connection is refused
     * on this machine), or it stayed out of reach past the outage limit. Unlike a departure from
     * {@code /worker}, this needs no ZooKeeper. Nothing runs while no session with {@code peer} has
     * opened. When this runtime ends the session itself (bad input from the peer), the actions waiting
     * for it are dropped without running: a session that is over keeps none.
     *
     * <p>Lifetime: the action is kept, with all it holds, until it runs, is dropped so, or the returned
     * subscription is closed. Whoever registers for a shorter task (a log follower's pump) closes it when
     * that task ends; closing is idempotent, and does nothing once the action has run.
     */
    public io.jcircuit.Subscription whenPeerEnds(WorkerId peer, java.util.function.Consumer<String> action) {
        PeerEnd end = new PeerEnd(peer, java.util.Objects.requireNonNull(action, "action"));
        peerEnds.compute(peer, (k, l) -> {
            java.util.List<PeerEnd> list = l == null ? new java.util.concurrent.CopyOnWriteArrayList<>() : l;
            list.add(end);
            return list;
        });
        return end;
    }

    /** How many actions wait for the session with {@code peer} to end ({@link #whenPeerEnds}); for tests. */
    int peerEndActions(WorkerId peer) {
        java.util.List<PeerEnd> l = peerEnds.get(peer);
        return l == null ? 0 : l.size();
    }

    /** One {@link #whenPeerEnds} registration; its identity is what {@link #close} removes. */
    private final class PeerEnd implements io.jcircuit.Subscription {
        final WorkerId peer;
        final java.util.function.Consumer<String> action;

        PeerEnd(WorkerId peer, java.util.function.Consumer<String> action) {
            this.peer = peer;
            this.action = action;
        }

        @Override
        public void close() {
            peerEnds.computeIfPresent(peer, (k, l) -> {
                l.remove(this);
                return l.isEmpty() ? null : l;
            });
        }
    }

    /** The open sessions with peers, each with its connection state and outage count; for operators and tests. */
    public java.util.List<io.jcircuit.link.Link> links() {
        return transport.links();
    }

    CallDeadlines callDeadlines() {
        return callDeadlines;
    }

    Completions completions() {
        return completions;
    }

    Waiters waiters() {
        return waiters;
    }

    Peers peers() {
        return peers;
    }

    @Override
    public String toString() {
        return "runtime " + id + " at " + (transport == null ? "?" : address());
    }

    /** The codec's view of references: descriptors out, handlers bound to this runtime in. */
    private final class ReferenceBridge implements References {
        @Override
        public Class<? extends InvocationHandler> handlerType() {
            return RefHandler.class;
        }

        @Override
        public RefDescriptor describe(InvocationHandler handler, WorkerId to, boolean permanent,
                                      java.util.function.LongConsumer counted) {
            RefHandler h = ((RefHandler) handler).effective(); // a hot-swapped object travels as its replacement
            RefDescriptor d = h.target();
            if (d.home().equals(id)) {
                if (permanent) {
                    exports.makePermanent(d.handle());
                } else if (to != null && !to.equals(id)) {
                    exports.heldBy(d.handle(), to);
                    counted.accept(d.handle()); // listed in the message: undone if it is not sent (unsent)
                }
            } else if (to != null && !to.equals(d.home())) {
                imports.pin(h); // passed on: stay held until the receiver has acquired it
            }
            return d;
        }

        @Override
        public InvocationHandler handlerFor(RefDescriptor d, WorkerId from) {
            if (d.home().equals(id)) {
                RefHandler local = exports.localHandler(d.handle(), handle -> new RefHandler(CircuitRuntime.this, d));
                return local != null ? local : new RefHandler(CircuitRuntime.this, d); // gone: calls will say so
            }
            Acquires.Owner[] acquired = {null};
            RefHandler h = imports.handlerFor(d, from, desc -> new RefHandler(CircuitRuntime.this, desc), acquired);
            if (acquired[0] != null) {
                acquires.acquireSoon(d, from, acquired[0]); // tells its home that this runtime holds it now
            }
            return h;
        }

        /**
         * A reference read from the durable store is acquired at its home, which counts this runtime among
         * its holders (a retiring worker waits for it, {@code Ops.retire}) until it is dropped here and
         * released; but only when this runtime does not hold it already, not at every read
         * ({@link ImportTable#storedHandlerFor}).
         */
        @Override
        public InvocationHandler storedHandlerFor(RefDescriptor d) {
            if (d.home().equals(id)) {
                return handlerFor(d, null); // one of this runtime's own exports
            }
            Acquires.Owner[] acquired = {null};
            RefHandler h = imports.storedHandlerFor(d, desc -> new RefHandler(CircuitRuntime.this, desc), acquired);
            if (acquired[0] != null) {
                acquires.acquireSoon(d, id, acquired[0]); // dialed, if need be, in this runtime's own turn
            }
            return h;
        }

        @Override
        public Class<? extends Worker> workerType() {
            return RemoteWorker.class;
        }

        @Override
        public Worker resolveWorker(WorkerDescriptor d) {
            return d.id().equals(id) ? self : new RemoteWorker(CircuitRuntime.this, d.id(), d.address());
        }
    }

    /** The link layer's events, on the event loop. */
    private final class Links implements LinkListener {
        @Override
        public void onLinkUp(Link link) {
            imports.sessionBegan(link.peer());
            peers.linkUp(link);
            if (instrumentation.metrics() != null) {
                instrumentation.metrics().linked(link.peer());
            }
        }

        @Override
        public void onData(Link link, ByteBuf frame) {
            dispatcher.onData(link, frame, 0);
        }

        @Override
        public void onData(Link link, ByteBuf frame, long senderHeldNanos) {
            dispatcher.onData(link, frame, senderHeldNanos);
        }

        @Override
        public void onNotDelivered(Link link, ByteBuf payload) {
            try {
                // never read there: the holds its encode counted for the peer (perhaps after the peer's were dropped) go
                unsent(link.peer(), MessageCodec.holds(payload, payload.readerIndex()));
                if (link.attachment() instanceof PeerSession s && payload.readableBytes() >= MessageCodec.PREFIX_LENGTH
                    && MessageCodec.isRequest(MessageCodec.kind(payload))) {
                    Outstanding p = s.pending.remove(MessageCodec.callId(payload));
                    if (p != null) {
                        p.fail(new io.jcircuit.WorkerDiedException(link.peer(), false, "worker " + link.peer()
                            + " did not take the request before its session ended (" + link.closeReason() + "); it was not run"));
                    }
                }
            } finally {
                payload.release();
            }
        }

        @Override
        public void onLinkDown(Link link, String reason) {
            peers.linkDown(link, reason);
            WorkerId peer = link.peer();
            if (closed.get() || peers.hasLiveSession(peer)) {
                return;
            }
            // A session ends for good: its peer said goodbye, stopped, or stayed out of reach past the
            // outage limit. Whatever it held is released now, not when ZooKeeper notices.
            exports.dropHolder(peer);
            int lost = imports.sessionEnded(peer, reason); // and the peer dropped ours
            if (lost > 0) {
                LOG.debug("{} references into worker {} are gone with its session", lost, peer);
            }
            java.util.List<PeerEnd> ends = peerEnds.remove(peer); // whoever ended it: the session is over
            if (ends != null && !link.endedByThisSide()) {
                Thread.ofVirtual().name("circuit-peer-ended-" + peer).start(() -> ends.forEach(e -> e.action.accept(reason)));
            }
            if (instrumentation.metrics() != null) {
                instrumentation.metrics().forget(peer);
            }
            if (link.outageLimitPassed() && anchors != null) {
                Thread.ofVirtual().name("circuit-unfile-" + peer).start(() -> {
                    try {
                        int n = anchors.removeEntriesOf(peer);
                        LOG.info("worker {} stayed unreachable past the outage limit: declared dead, {} of its anchor entries removed", peer, n);
                    } catch (RuntimeException e) {
                        LOG.warn("cannot remove the anchor entries of {}, declared dead: {}", peer, e.toString());
                    }
                });
            }
        }
    }
}
