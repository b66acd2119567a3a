package io.jcircuit.host;

import io.jcircuit.Circuit;
import io.jcircuit.Entry;
import io.jcircuit.Fn;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.Worker;
import io.jcircuit.WorkerDiedException;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.SpawnedWorker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Spawning real worker JVMs through a host daemon with an embedded ZooKeeper; one host for all tests. */
@Tag("slow")
class SpawnTest {

    /**
     * Workers whose ZooKeeper sessions outlive {@link #REMOVED_BY_THE_HOST} by far: their entries can
     * be gone within it only because their host removed them when it saw the process end.
     */
    private static final SpawnOptions LONG_SESSION =
        SpawnOptions.defaults().withJvmArgs("-Dcircuit.zookeeper.sessionTimeoutMs=120000");
    private static final Duration REMOVED_BY_THE_HOST = Duration.ofSeconds(30);

    public interface Counter {
        int add(int delta);
    }

    static final class CounterImpl implements Counter {
        private final AtomicInteger value = new AtomicInteger();

        @Override
        public int add(int delta) {
            return value.addAndGet(delta);
        }
    }

    /** A service that hands out objects of its own: what a hot swap leaves behind on the old worker. */
    public interface Maker {
        Counter make();
    }

    static final class MakerImpl implements Maker {
        @Override
        public Counter make() {
            return Circuit.current().ref(Counter.class, new CounterImpl());
        }
    }

    /** A maker that also keeps what it makes in the durable store, as the README's way to keep a reference. */
    static final class StoringMaker implements Maker {
        @Override
        public Counter make() {
            Counter c = Circuit.current().ref(Counter.class, new CounterImpl());
            Circuit.current().durable().put("/spawn/stored/counter", c);
            return c;
        }
    }

    @TempDir
    static Path state;
    /**
     * The jar cache and class archives of the hosts the tests start besides h1, where they test neither: each
     * would fetch the jars and write the archive of its first JVM again, a few seconds of a 2-CPU machine.
     */
    @TempDir
    static Path caches;

    /** The configuration of a host besides h1 for a test of neither its jar cache nor its class archives. */
    private static HostDaemon.Config sharingCaches(String name, Path stateDir, String zookeeper, int warm) {
        return new HostDaemon.Config(name, stateDir, zookeeper, null, 0, warm).withCacheDir(caches);
    }
    private static HostDaemon host;
    private static CircuitRuntime spawner;

    @BeforeAll
    static void start() {
        host = HostDaemon.start(new HostDaemon.Config("h1", state, null, null, 0));
        spawner = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
    }

    @AfterAll
    static void stop() {
        if (spawner != null) {
            spawner.close();
        }
        if (host != null) {
            host.close();
        }
    }

    @Test
    void spawnRunsTheFunctionInANewJvmFiledUnderItsAnchors() throws Exception {
        // a comma is a path character: before, the worker split its anchors on it and exited
        Spawned<Long> s = spawner.spawn("h1", List.of("/spawn/test", "/spawn/x=1,y@2"), () -> {
            System.out.println("hello from " + Circuit.current().id());
            return ProcessHandle.current().pid();
        }, SpawnOptions.defaults().daemonized()); // stays, so that the test can look at it
        Worker w = s.worker();
        assertThat(s.result()).isNotEqualTo(ProcessHandle.current().pid());
        assertThat(spawner.anchors().list("/spawn/test").entries()).extracting(Entry::worker).containsExactly(w.id());
        assertThat(spawner.anchors().list("/spawn/x=1,y@2").entries()).extracting(Entry::worker).containsExactly(w.id());
        assertThat(spawner.anchors().list("/host/h1").entries()).extracting(Entry::worker).contains(w.id());

        Path dir = state.resolve("workers").resolve(w.id().toString());
        assertThat(dir.resolve("spawn.properties")).exists();
        await().untilAsserted(() -> assertThat(Files.readString(dir.resolve("stdout"))).contains("hello from " + w.id()));
        w.kill();
    }

    /**
     * {@code Worker.kill} reaches a worker whose entries are gone while it runs (stopped past its ZooKeeper
     * session, it files itself again only once it runs again): its host still knows it. It was taken
     * for gone, and kept running.
     */
    @Test
    void killReachesAWorkerWhoseEntriesAreGone() throws Exception {
        Spawned<Long> s = spawner.spawn("h1", List.of(), () -> ProcessHandle.current().pid(),
            SpawnOptions.defaults().daemonized());
        long pid = s.result();
        String id = s.worker().id().toString();
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero();
        try (org.apache.curator.framework.CuratorFramework raw = org.apache.curator.framework.CuratorFrameworkFactory
                 .newClient(host.zookeeper(), new org.apache.curator.retry.RetryOneTime(100))) {
            raw.start();
            // what its session's expiry does while it is stopped
            raw.delete().forPath("/jcircuit/anchors/worker/" + id);
            raw.delete().forPath("/jcircuit/anchors/host/h1/" + id);
            assertThat(spawner.anchors().listAll("/host").entries()).noneMatch(e -> e.worker().toString().equals(id));

            s.worker().kill();

            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
        }
    }

    @Test
    void aWorkerLeavesOneCpuToItsEventLoopUnlessItsSpawnSaysOtherwise() {
        int cpus = Runtime.getRuntime().availableProcessors();
        org.junit.jupiter.api.Assumptions.assumeTrue(cpus >= 2, "with one CPU there is one carrier anyway");

        String carriers = spawner.spawn("h1", List.of(), () -> System.getProperty("jdk.virtualThreadScheduler.parallelism"))
            .result();
        String asked = spawner.spawn("h1", List.of(), () -> System.getProperty("jdk.virtualThreadScheduler.parallelism"),
            SpawnOptions.defaults().withJvmArgs("-Djdk.virtualThreadScheduler.parallelism=" + cpus)).result();

        assertThat(carriers).isEqualTo(Integer.toString(cpus - 1));
        assertThat(asked).as("the spawn's options come last and win").isEqualTo(Integer.toString(cpus));
    }

    /** A worker runs without Netty's leak detector ({@link NettyOptions}); a spawn that asks for it gets it. */
    @Test
    void aWorkerRunsWithoutNettysLeakDetectorUnlessItsSpawnAsksForIt() {
        Fn<String> level = () -> io.netty.util.ResourceLeakDetector.getLevel().name();

        String plain = spawner.spawn("h1", List.of(), level).result();
        String asked = spawner.spawn("h1", List.of(), level,
            SpawnOptions.defaults().withJvmArgs("-Dio.netty.leakDetection.level=paranoid")).result();

        assertThat(plain).isEqualTo("DISABLED");
        assertThat(asked).as("the spawn's options come last and win").isEqualTo("PARANOID");
    }

    /** The JIT thresholds of the JVM it runs in: C1's invocation threshold, then C2's. */
    private static final Fn<String> THRESHOLDS = () -> {
        var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        return vm.getVMOption("Tier3InvocationThreshold").getValue() + "/" + vm.getVMOption("Tier4InvocationThreshold").getValue();
    };

    @Test
    void aWorkerCompilesLaterUnlessItsSpawnSaysOtherwise() {
        // options of its own: no warm JVM has them yet, so the spawn starts one
        SpawnOptions fresh = SpawnOptions.defaults().withJvmArgs("-Dthresholds.test=" + java.util.UUID.randomUUID());
        assertThat(spawner.spawn("h1", List.of(), THRESHOLDS, fresh).result()).as("a JVM started for the spawn").isEqualTo("1000/50000");
        assertThat(spawner.spawn("h1", List.of(), THRESHOLDS,
            SpawnOptions.defaults().withJvmArgs("-XX:Tier3InvocationThreshold=300", "-XX:Tier4InvocationThreshold=5000")).result())
            .as("the spawn's options come last and win").isEqualTo("300/5000");
    }

    @Test
    void aSpawnedFunctionCanReturnAReference() {
        Spawned<Counter> s = spawner.spawn(Circuit.ANY_HOST, List.of(), () ->
            Circuit.current().ref(Counter.class, new CounterImpl()));
        assertThat(spawner.isReference(s.result())).isTrue();
        assertThat(spawner.homeOf(s.result())).isEqualTo(s.worker());
        s.result().add(2);
        assertThat(s.result().add(3)).isEqualTo(5);
        s.worker().kill();
    }

    @Test
    void aWorkerWhoseFunctionIsDoneAndHoldsNothingExitsByItself() {
        long pid = spawner.spawn("h1", List.of("/spawn/done"), () -> ProcessHandle.current().pid()).result();
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        assertThat(spawner.anchors().listAll("/spawn/done").entries()).isEmpty();
    }

    @Test
    void aWorkerLivesWhileAReferenceIntoItIsHeldAndExitsWhenItIsDropped() {
        Spawned<Counter> s = spawner.spawn("h1", List.of("/spawn/held"), () ->
            Circuit.current().ref(Counter.class, new CounterImpl()));
        Counter held = s.result();
        for (int i = 0; i < 6; i++) {
            assertThat(held.add(1)).isEqualTo(i + 1); // across several of the worker's idle checks
            await().pollDelay(Duration.ofMillis(300)).until(() -> true);
        }
        held = null;
        s = new Spawned<>(null, s.worker());
        Worker w = s.worker();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            System.gc(); // the proxy's collection sends the release
            return spawner.anchors().list("/spawn/held").isEmpty();
        });
        assertThat(w.id()).isNotNull();
    }

    @Test
    void spawnsInARowLeaveOneWarmJvmNotOneEach(@TempDir Path otherState) {
        try (HostDaemon warmHost = HostDaemon.start(sharingCaches("row", otherState, host.zookeeper(), 1))) {
            SpawnOptions opts = SpawnOptions.defaults().withJvmArgs("-Drow.test=1");
            for (int i = 0; i < 3; i++) {
                spawner.spawn("row", List.of(), () -> 1, opts);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> warmHost.warmStarting() == 0 && warmHost.warmReady() >= 1);
            // before, each spawn made while the first warm JVM was starting started one more: three here
            assertThat(warmHost.warmReady()).isEqualTo(1);
        }
    }

    /**
     * A warm JVM killed from outside (the OOM killer, an operator) leaves the pool and the host's list
     * of warm JVMs, and another takes its place. Before, the host went on listing the dead JVM as warm,
     * and started none until a spawn had found it dead and started cold.
     */
    @Test
    void aWarmJvmKilledFromOutsideIsReplaced(@TempDir Path otherState) throws Exception {
        try (HostDaemon h = HostDaemon.start(sharingCaches("killed-warm", otherState, host.zookeeper(), 1))) {
            spawner.spawn("killed-warm", List.of(), () -> 1);
            assertThat(h.awaitWarmReady(1, Duration.ofSeconds(60))).isTrue();
            String warm = await().atMost(Duration.ofSeconds(30)).until(() -> warmListed("killed-warm"), l -> l.size() == 1).getFirst();
            ProcessHandle jvm = processOf(otherState, warm).orElseThrow();

            jvm.destroyForcibly();
            jvm.onExit().get(10, TimeUnit.SECONDS);

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                List<String> listed = warmListed("killed-warm");
                assertThat(listed).as("warm JVMs the host lists after " + warm + " was killed").hasSize(1).doesNotContain(warm);
                assertThat(processOf(otherState, listed.getFirst()).map(ProcessHandle::isAlive)).as("the new warm JVM runs").contains(true);
            });
            assertThat(h.awaitWarmReady(1, Duration.ofSeconds(60))).as("the new warm JVM is ready for a spawn").isTrue();
        }
    }

    /** The ids the entry of host {@code name} lists as its warm JVMs. */
    private static List<String> warmListed(String name) {
        return spawner.anchors().list("/host/" + name).entries().stream()
            .filter(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY)))
            .flatMap(e -> java.util.Arrays.stream(e.metadata().getOrDefault(HostService.WARM_KEY, "").split(" ")))
            .filter(x -> !x.isBlank()).toList();
    }

    /** The process its pid file names of the JVM {@code id} under {@code state}. */
    private static java.util.Optional<ProcessHandle> processOf(Path state, String id) {
        try {
            String t = Files.readString(state.resolve("workers").resolve(id).resolve(WorkerDir.PID)).trim();
            return ProcessHandle.of(Long.parseLong(t.split(" ")[0]));
        } catch (java.io.IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * What workers print lands under the state directory's {@code workers}: other users of the machine
     * must not read it. Before, both directories were made with the umask (rwxr-xr-x here).
     */
    @Test
    void aHostKeepsItsWorkersDirectoriesToItsOwner(@TempDir Path otherState) throws Exception {
        Path fresh = otherState.resolve("fresh");
        Path old = Files.createDirectories(otherState.resolve("old").resolve("workers")).getParent();
        Files.setPosixFilePermissions(old, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(old.resolve("workers"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        try (HostDaemon a = HostDaemon.start(new HostDaemon.Config("owned", fresh, host.zookeeper(), null, 0, 0));
             HostDaemon b = HostDaemon.start(new HostDaemon.Config("owned-old", old, host.zookeeper(), null, 0, 0))) {
            assertThat(permissions(fresh)).as("a state directory the host made").isEqualTo("rwx------");
            assertThat(permissions(fresh.resolve("workers"))).isEqualTo("rwx------");
            assertThat(permissions(old)).as("an existing state directory: its owner's choice").isEqualTo("rwxr-xr-x");
            assertThat(permissions(old.resolve("workers"))).as("the host's own workers directory").isEqualTo("rwx------");
        }
    }

    private static String permissions(Path p) throws java.io.IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void aWarmJvmServesTheNextSpawnOfTheSameClasspath(@TempDir Path otherState) throws Exception {
        try (HostDaemon warmHost = HostDaemon.start(sharingCaches("warm", otherState, host.zookeeper(), 1))) {
            SpawnOptions opts = SpawnOptions.defaults().withJvmArgs("-Dwarm.test=1");
            long coldStart = System.nanoTime();
            spawner.spawn("warm", List.of(), () -> 1, opts);
            long coldMs = (System.nanoTime() - coldStart) / 1_000_000;
            assertThat(warmHost.awaitWarmReady(1, Duration.ofSeconds(60))).isTrue();

            long t0 = System.nanoTime();
            Spawned<String> s = spawner.spawn("warm", List.of("/spawn/warm"), () -> System.getProperty("warm.test") + " " + THRESHOLDS.call(), opts);
            System.out.println("spawn: cold " + coldMs + " ms, warm " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            assertThat(warmHost.warmSpawns()).isEqualTo(1);
            // a warm JVM keeps C1's own thresholds: its warm-up is to have compiled the hand-over
            assertThat(s.result()).isEqualTo("1 200/50000");
            assertThat(spawner.anchors().list("/host/warm").entries()).extracting(Entry::worker).contains(s.worker().id());
            assertThat(spawner.anchors().list("/worker").entries()).filteredOn(e -> e.worker().equals(s.worker().id()))
                .singleElement().as("taken by a spawn, a warm JVM is a worker: its standby mark is gone")
                .satisfies(e -> assertThat(e.metadata()).doesNotContainKey(HostService.STANDBY_KEY));
            assertThat(spawner.anchors().list("/host/warm").entries()).filteredOn(e -> e.worker().equals(s.worker().id()))
                .singleElement().as("nor is it on the worker's entry under its host")
                .satisfies(e -> assertThat(e.metadata()).doesNotContainKey(HostService.STANDBY_KEY));
            // the worker opened its link to the spawner while it filed itself
            await().untilAsserted(() -> assertThat(spawner.links()).filteredOn(l -> l.peer().equals(s.worker().id()))
                .anySatisfy(l -> assertThat(l.dialed()).as("dialed by the spawner").isFalse()));

            // the next warm JVM is filed under /worker like a worker; its host kills it when asked to
            assertThat(warmHost.awaitWarmReady(1, Duration.ofSeconds(60))).isTrue();
            java.util.Set<io.jcircuit.WorkerId> known = new java.util.HashSet<>(List.of(s.worker().id(),
                warmHost.runtime().id(), host.runtime().id(), spawner.id()));
            Entry standby = await().atMost(Duration.ofSeconds(10)).until(() -> spawner.anchors().list("/worker").entries()
                .stream().filter(e -> !known.contains(e.worker()) && warmHostChild(e.pid(), otherState)).findFirst(),
                java.util.Optional::isPresent).orElseThrow();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(spawner.anchors().list("/worker").entries())
                .filteredOn(e -> e.worker().equals(standby.worker())).singleElement()
                .as("a warm JVM's entry says it is one").satisfies(e -> assertThat(e.metadata()).containsEntry(HostService.STANDBY_KEY, "true")));
            io.jcircuit.runtime.host.HostService service = spawner.anchors().list("/host/warm").entries().stream()
                .filter(e -> e.worker().equals(warmHost.runtime().id())).findFirst()
                .map(e -> spawner.anchors().worker(e).dial(io.jcircuit.runtime.host.HostService.SERVICE,
                    io.jcircuit.runtime.host.HostService.class)).orElseThrow();
            assertThat(service.kill(standby.worker())).as("the host knows its warm JVM").isTrue();
            assertThat(ProcessHandle.of(standby.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();

            // a spawn that cannot write the metadata it hands a warm JVM (a full disk, say) ends that JVM
            spawner.spawn("warm", List.of(), () -> 1, opts); // cold (the pool is empty), and it refills the pool
            assertThat(warmHost.awaitWarmReady(1, Duration.ofSeconds(60))).isTrue();
            known.add(standby.worker());
            Entry next = await().atMost(Duration.ofSeconds(10)).until(() -> spawner.anchors().list("/worker").entries()
                .stream().filter(e -> !known.contains(e.worker()) && warmHostChild(e.pid(), otherState)).findFirst(),
                java.util.Optional::isPresent).orElseThrow();
            Files.createDirectories(otherState.resolve("workers").resolve(next.worker().toString())
                .resolve(io.jcircuit.runtime.host.WorkerMain.META_FILE + ".tmp")); // where the metadata is written first
            assertThatThrownBy(() -> spawner.spawn("warm", List.of(), () -> 2, opts))
                .hasMessageContaining("cannot write the spawn metadata of " + next.worker());
            // before: taken from the pool and told nothing, it waited on its stdin for as long as the host ran
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(next.pid()).map(h -> !h.isAlive()).orElse(true));
        }
    }

    /**
     * Whether process {@code pid} is a warm JVM waiting in a worker directory under {@code state}. Read
     * from /proc: the JDK's {@code ProcessHandle.Info} cuts a command line this long short.
     */
    private static boolean warmHostChild(long pid, Path state) {
        try {
            String c = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
            return c.contains(io.jcircuit.runtime.host.WorkerMain.STANDBY) && c.contains(state.toString());
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    @Test
    void oneOfSeveralJvmsStartedTogetherWritesTheClassArchiveAndLaterOnesUseIt(@TempDir Path otherState) throws Exception {
        try (HostDaemon fresh = HostDaemon.start(new HostDaemon.Config("cds", otherState, host.zookeeper(), null, 0, 0));
             java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Fn<List<String>> jvmArgs = () -> List.copyOf(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
            List<java.util.concurrent.Future<List<String>>> spawns = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                spawns.add(threads.submit(() -> spawner.spawn("cds", List.of(), jvmArgs).result()));
            }
            int writers = 0;
            for (java.util.concurrent.Future<List<String>> f : spawns) {
                writers += f.get().contains("-XX:+AutoCreateSharedArchive") ? 1 : 0;
            }
            assertThat(writers).as("JVMs told to write the missing archive at exit").isEqualTo(1);

            Path cds = otherState.resolve("cds");
            await().atMost(Duration.ofSeconds(60)).until(() -> fresh.archivesBeingWritten() == 0 && archiveIn(cds) != null);
            assertThat(spawner.spawn("cds", List.of(), jvmArgs).result()).as("a JVM started once the archive exists")
                .anyMatch(a -> a.startsWith("-XX:SharedArchiveFile=" + cds));

            // While the JVM told to write the archive lives, a file at its path may be half written:
            // later JVMs leave it alone, and use it once that JVM is gone.
            Path archive = archiveIn(cds);
            Files.delete(archive);
            Spawned<List<String>> writer = spawner.spawn("cds", List.of(), jvmArgs, SpawnOptions.defaults().daemonized());
            assertThat(writer.result()).as("the JVM started while the archive is missing").contains("-XX:+AutoCreateSharedArchive");
            Files.write(archive, new byte[] {1, 2, 3}); // what a reader would see halfway through the write
            assertThat(spawner.spawn("cds", List.of(), jvmArgs).result()).as("a JVM started while the writer lives")
                .noneMatch(a -> a.startsWith("-XX:SharedArchiveFile=") || a.equals("-XX:+AutoCreateSharedArchive"));
            writer.worker().kill();
            await().atMost(Duration.ofSeconds(30)).until(() -> fresh.archivesBeingWritten() == 0);
            assertThat(spawner.spawn("cds", List.of(), jvmArgs).result()).as("a JVM started after the writer died")
                .contains("-XX:SharedArchiveFile=" + archive); // a bad file is only skipped, and written again at exit
        }
    }

    @Test
    void aJvmStartedAsSoonAsTheArchiveWriterHasExitedIsGivenTheArchive(@TempDir Path otherState) throws Exception {
        try (HostDaemon fresh = HostDaemon.start(new HostDaemon.Config("cds-next", otherState, host.zookeeper(), null, 0, 0))) {
            Fn<List<String>> argsThenPid = () -> {
                List<String> l = new java.util.ArrayList<>(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
                l.add(Long.toString(ProcessHandle.current().pid()));
                return l;
            };
            List<String> writer = spawner.spawn("cds-next", List.of(), argsThenPid).result();
            assertThat(writer).as("the first JVM, told to write the archive").contains("-XX:+AutoCreateSharedArchive");
            // not daemonized: it exits by itself once its function is done, writing the archive as it goes
            ProcessHandle.of(Long.parseLong(writer.getLast())).ifPresent(p -> p.onExit().orTimeout(60, TimeUnit.SECONDS).join());
            // a spawner that saw the exit spawns at once, before the host may have handled it
            assertThat(spawner.spawn("cds-next", List.of(), argsThenPid).result()).as("a JVM started right after")
                .anyMatch(a -> a.startsWith("-XX:SharedArchiveFile=" + otherState.resolve("cds")));
        }
    }

    /**
     * Every worker of some hosts is killed, and a killed JVM writes no archive; without the host's own
     * writer, no JVM of such a host would ever get one.
     */
    @Test
    void whenTheJvmToldToWriteTheArchiveIsKilledTheHostWritesItItself(@TempDir Path otherState) throws Exception {
        try (HostDaemon fresh = HostDaemon.start(new HostDaemon.Config("cds-killed", otherState, host.zookeeper(), null, 0, 0))) {
            Fn<List<String>> jvmArgs = () -> List.copyOf(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
            // the worker's own class-load log, which the host's writer, started with the worker's options, must leave alone
            Path log = otherState.resolve("worker-classes.log");
            SpawnOptions logged = SpawnOptions.defaults().withJvmArgs("-Xlog:class+load=info:file=" + log);
            Spawned<List<String>> writer = spawner.spawn("cds-killed", List.of(), jvmArgs, logged.daemonized());
            assertThat(writer.result()).as("the first JVM, told to write the archive").contains("-XX:+AutoCreateSharedArchive");
            writer.worker().kill();

            Path cds = otherState.resolve("cds");
            await().atMost(Duration.ofSeconds(90)).until(() -> archiveIn(cds) != null && fresh.archivesBeingWritten() == 0);
            assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> warmHostChild(p.pid(), otherState)).toList())
                .as("the host's own writer has exited").isEmpty();
            // before: the writer wrote its own class-load log over the worker's
            assertThat(Files.readString(log)).as("the killed worker's log, with its function's class")
                .contains(SpawnTest.class.getName() + "$$Lambda");
            assertThat(spawner.spawn("cds-killed", List.of(), jvmArgs, logged).result()).as("a JVM started afterwards")
                .contains("-XX:SharedArchiveFile=" + archiveIn(cds));
        }
    }

    /** A host that closes while it starts a warm JVM ends that JVM too, rather than leaving it to warm up alone. */
    @Test
    void aHostThatClosesEndsTheWarmJvmItIsStarting(@TempDir Path otherState) {
        HostDaemon warmHost = HostDaemon.start(sharingCaches("closing", otherState, host.zookeeper(), 1));
        try {
            spawner.spawn("closing", List.of(), () -> 1).result(); // the host starts refilling its pool now
        } finally {
            warmHost.close();
        }
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
            .filter(p -> warmHostChild(p.pid(), otherState)).toList())
            .as("no warm JVM of the closed host runs").isEmpty();
    }

    private static Path archiveIn(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".jsa")).findFirst().orElse(null);
        }
    }

    @Test
    void aWorkerLoadsNeitherNettysJfrEventsNorAJavaCompilerToStart(@TempDir Path logs) {
        String plain = loadedClasses(logs.resolve("plain.log"));
        String asked = loadedClasses(logs.resolve("asked.log"), "-Dio.netty.jfr.enabled=true");
        assertThat(plain).as("the worker used Netty's buffers").contains("io.netty.buffer.AdaptiveByteBufAllocator");
        assertThat(plain).doesNotContain("io.netty.buffer.AllocateChunkEvent");
        assertThat(asked).as("unless the spawn asks for them").contains("io.netty.buffer.AllocateChunkEvent");
        assertThat(plain).as("the worker ran its lambda").contains("io.jcircuit.Fn ")
            .as("its lambda was read without Fory generating and compiling a serializer")
            .doesNotContain("org.apache.fory.shaded.org.codehaus.janino");
    }

    /** A host passes its setting for values sealed before the seal covered their kind on to its workers. */
    @Test
    void aWorkerReadsOldSealsAsItsHostDoes(@TempDir Path otherState) {
        String before = System.getProperty(io.jcircuit.runtime.ClusterSeal.OLD_SEALS_PROPERTY);
        // a host without warm JVMs: one started before the setting would not have it
        try (HostDaemon h = HostDaemon.start(sharingCaches("old-seals", otherState, host.zookeeper(), 0))) {
            System.setProperty(io.jcircuit.runtime.ClusterSeal.OLD_SEALS_PROPERTY, "refuse");
            assertThat(spawner.spawn("old-seals", List.of(), () -> io.jcircuit.runtime.ClusterSeal.oldSealsAccepted()).result())
                .as("the worker of a host that refuses them").isFalse();
        } finally {
            if (before == null) {
                System.clearProperty(io.jcircuit.runtime.ClusterSeal.OLD_SEALS_PROPERTY);
            } else {
                System.setProperty(io.jcircuit.runtime.ClusterSeal.OLD_SEALS_PROPERTY, before);
            }
        }
    }

    /** The class-load log of a worker that ran a function and exited, with {@code jvmArgs} added. */
    private static String loadedClasses(Path log, String... jvmArgs) {
        List<String> args = new java.util.ArrayList<>(List.of(jvmArgs));
        args.add("-Xlog:class+load=info:file=" + log);
        long pid = spawner.spawn("h1", List.of(), () -> ProcessHandle.current().pid(),
            SpawnOptions.defaults().withJvmArgs(args.toArray(String[]::new))).result();
        await().atMost(Duration.ofSeconds(60)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void killingARuntimeThatNoHostStartedIsRefusedPlainly() {
        try (CircuitRuntime plain = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> spawner.anchors().list("/worker").entries().stream()
                .anyMatch(e -> e.worker().equals(plain.id())));

            assertThatThrownBy(() -> spawner.worker(plain.address()).kill())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("was not started by a running host").hasMessageContaining("close its runtime");
        }
    }

    @Test
    void aSecondSpawnFetchesNoJars() {
        Spawned<Integer> first = spawner.spawn("h1", List.of(), () -> 1);
        long fetched = host.fetchedJars();
        assertThat(fetched).isPositive();
        Spawned<Integer> second = spawner.spawn("h1", List.of(), () -> 2);
        assertThat(host.fetchedJars()).isEqualTo(fetched);
        assertThat(second.result()).isEqualTo(2);
        first.worker().kill();
        second.worker().kill();
    }

    @Test
    void aKilledWorkerFailsCallsAndLeavesTheNamespace() throws Exception {
        Spawned<Counter> s = spawner.spawn("h1", List.of("/spawn/kill"), () ->
            Circuit.current().ref(Counter.class, new CounterImpl()), LONG_SESSION);
        Counter c = s.result();
        assertThat(c.add(1)).isEqualTo(1);
        CountDownLatch exited = new CountDownLatch(1);
        s.worker().onExit(exited::countDown);

        s.worker().kill();

        await().atMost(REMOVED_BY_THE_HOST).untilAsserted(() ->
            assertThatThrownBy(() -> c.add(1)).isInstanceOf(WorkerDiedException.class));
        await().atMost(REMOVED_BY_THE_HOST).untilAsserted(() ->
            assertThat(spawner.anchors().listAll("/spawn/kill").entries()).isEmpty());
        assertThat(exited.await(10, TimeUnit.SECONDS)).isTrue();
        Path dir = state.resolve("workers").resolve(s.worker().id().toString());
        await().untilAsserted(() -> assertThat(dir.resolve("exit")).exists());
    }

    @Test
    void aWorkerKilledFromOutsideLeavesTheNamespaceAtOnce() {
        Spawned<Long> s = spawner.spawn("h1", List.of("/spawn/kill9"), () -> ProcessHandle.current().pid(), LONG_SESSION);
        ProcessHandle.of(s.result()).orElseThrow().destroyForcibly();
        await().atMost(REMOVED_BY_THE_HOST).untilAsserted(() ->
            assertThat(spawner.anchors().listAll("/spawn/kill9").entries()).isEmpty());
    }

    @Test
    void aSpawnerThatExitsLeavesNoWorkerBehind() {
        long pid;
        try (CircuitRuntime shortLived = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            pid = shortLived.spawn("h1", List.of(), () -> ProcessHandle.current().pid()).result();
            assertThat(ProcessHandle.of(pid)).isPresent();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    /**
     * Starts a spawn on {@code host} from {@code spawner} whose function never returns, filed under
     * {@code anchor}, and returns once the worker is filed there, while the spawn still waits for it.
     */
    private static Worker spawnForever(CircuitRuntime spawner, CircuitRuntime lookout, String anchor) {
        Thread.ofVirtual().start(() -> {
            try {
                spawner.spawn("h1", List.of(anchor), () -> {
                    Thread.sleep(Long.MAX_VALUE);
                    return 0L;
                });
            } catch (RuntimeException expected) {
                // the spawner closes while it waits
            }
        });
        Entry e = await().atMost(Duration.ofSeconds(60)).until(() -> lookout.anchors().list(anchor).entries(),
            l -> !l.isEmpty()).getFirst();
        return lookout.anchors().worker(e);
    }

    @Test
    void aWorkerWhoseSpawnerIsGoneExitsThoughAnotherRuntimeHoldsAReferenceIntoIt() throws Exception {
        // the workers of one job hold references into each other: were holds to keep a worker whose
        // spawner is gone, such a cycle would never end
        CircuitRuntime holder = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
        try {
            long pid;
            try (CircuitRuntime shortLived = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
                Worker w = spawnForever(shortLived, holder, "/spawn/orphan");
                Counter c = w.go(() -> Circuit.current().ref(Counter.class, new CounterImpl()));
                assertThat(c.add(1)).isEqualTo(1);
                pid = w.go(() -> ProcessHandle.current().pid());
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        } finally {
            holder.close();
        }
    }

    @Test
    void aSpawnerThatDiesWhileItsFunctionRunsLeavesNoWorkerBehind() {
        long pid;
        try (CircuitRuntime shortLived = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            Worker w = spawnForever(shortLived, spawner, "/spawn/unwanted");
            pid = w.go(() -> ProcessHandle.current().pid()); // a go holds nothing once it has returned
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void aRetiredWorkerServesWhatItHandedOutUntilItIsDroppedThenExits() {
        long pid = spawner.spawn("h1", List.of("/spawn/retire"), () -> {
            Circuit.current().listen("maker", Maker.class, new MakerImpl());
            return ProcessHandle.current().pid();
        }, SpawnOptions.defaults().daemonized()).result();
        CircuitRuntime holder = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
        try {
            Worker w = holder.anchors().worker(holder.anchors().list("/spawn/retire").entries().getFirst());
            Counter c = w.dial("maker", Maker.class).make();
            assertThat(c.add(1)).isEqualTo(1);
            io.jcircuit.runtime.ops.Ops ops = w.dial(io.jcircuit.runtime.ops.Ops.SERVICE, io.jcircuit.runtime.ops.Ops.class);

            logWhatRetiringSees(ops);
            assertThat(ops.retire()).as("the counter is held; services do not count").isEqualTo(1);

            // once it has looked and seen the counter held, it stays while the holder does, and the counter answers
            awaitRetiringSaw(ops, 1);
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
            assertThat(c.add(1)).isEqualTo(2);
        } finally {
            holder.close(); // its holds go with it
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    /**
     * An object the retiring worker also stored in the durable store counts while another runtime holds it
     * (before, storing it left it out: the worker exited at once, and its holder's calls failed), and being
     * stored alone does not keep the worker once its holder has dropped it.
     */
    @Test
    void aRetiredWorkerServesWhatItHandedOutAndStoredUntilItIsDroppedThenExits() {
        long pid = spawner.spawn("h1", List.of("/spawn/retire-stored"), () -> {
            Circuit.current().listen("maker", Maker.class, new StoringMaker());
            return ProcessHandle.current().pid();
        }, SpawnOptions.defaults().daemonized()).result();
        CircuitRuntime holder = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
        try {
            Worker w = holder.anchors().worker(holder.anchors().list("/spawn/retire-stored").entries().getFirst());
            Counter c = w.dial("maker", Maker.class).make();
            assertThat(c.add(1)).isEqualTo(1);
            io.jcircuit.runtime.ops.Ops ops = w.dial(io.jcircuit.runtime.ops.Ops.SERVICE, io.jcircuit.runtime.ops.Ops.class);

            logWhatRetiringSees(ops);
            assertThat(ops.retire()).as("the counter is held, stored in the durable store or not").isEqualTo(1);

            awaitRetiringSaw(ops, 1);
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
            assertThat(c.add(1)).isEqualTo(2);
        } finally {
            holder.close(); // its holds go with it; the stored reference holds nothing
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    /**
     * A runtime that read the retiring worker's object from the durable store holds it too: the worker
     * waits for it. (Before, a read was not told to the object's home, which exited under its reader.)
     */
    @Test
    void aRetiredWorkerServesWhatAnotherRuntimeReadFromTheDurableStoreUntilItIsDroppedThenExits() {
        long pid = spawner.spawn("h1", List.of("/spawn/retire-read"), () -> {
            Circuit.current().listen("maker", Maker.class, new MakerImpl());
            Circuit.current().durable().put("/spawn/read/counter", Circuit.current().ref(Counter.class, new CounterImpl()));
            return ProcessHandle.current().pid();
        }, SpawnOptions.defaults().daemonized()).result();
        CircuitRuntime holder = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build());
        try {
            Counter c = holder.durable().get("/spawn/read/counter", Counter.class).orElseThrow();
            assertThat(c.add(1)).isEqualTo(1);
            Worker w = holder.anchors().worker(holder.anchors().list("/spawn/retire-read").entries().getFirst());
            io.jcircuit.runtime.ops.Ops ops = w.dial(io.jcircuit.runtime.ops.Ops.SERVICE, io.jcircuit.runtime.ops.Ops.class);

            logWhatRetiringSees(ops);
            ops.retire(); // the read's acquire may still be on its way (it is sent off the reading thread): not asserted

            awaitRetiringSaw(ops, 1); // the counter the holder read is held
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
            assertThat(c.add(1)).isEqualTo(2);
        } finally {
            holder.close();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    /** Has the worker log at INFO what a retirement sees, into the lines {@code logTail} reads. */
    private static void logWhatRetiringSees(io.jcircuit.runtime.ops.Ops ops) {
        ops.set("log." + io.jcircuit.runtime.ops.OpsService.class.getName(), "INFO"); // tests log WARN and up
        ops.logTail(0); // the lines are kept from the first look on
    }

    /**
     * Waits until a retiring worker has looked whether its objects are held, and seen {@code held} of them
     * (it logs each change of what it sees). A worker that has seen one held does not exit while it is held:
     * unlike waiting a while to see that it did not exit, which passes as well when it has not looked yet.
     */
    private static void awaitRetiringSaw(io.jcircuit.runtime.ops.Ops ops, int held) {
        String line = "retiring: looked: " + held + " of its objects held by other runtimes";
        await("the retiring worker logs that it saw " + held + " held").atMost(Duration.ofSeconds(30))
            .until(() -> ops.logTail(500).stream().anyMatch(l -> l.contains(line)));
    }

    @Test
    void aDaemonizedWorkerOutlivesItsSpawner() {
        Spawned<Long> s;
        try (CircuitRuntime shortLived = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
            s = shortLived.spawn("h1", List.of("/spawn/daemon"), () -> ProcessHandle.current().pid(),
                SpawnOptions.defaults().daemonized());
        }
        Worker w = spawner.anchors().worker(spawner.anchors().list("/spawn/daemon").entries().getFirst());
        assertThat(w.go(() -> 40 + 2)).isEqualTo(42);
        assertThat(ProcessHandle.of(s.result()).map(ProcessHandle::isAlive)).contains(true);
        w.kill();
    }

    @Test
    void aWorkerThatCannotJoinZooKeeperSaysSoInTheSpawnsError(@TempDir Path zkDir, @TempDir Path otherState) {
        io.jcircuit.anchor.EmbeddedZooKeeper zk = io.jcircuit.anchor.EmbeddedZooKeeper.start(zkDir, 0);
        try (HostDaemon h = HostDaemon.start(sharingCaches("nozk", otherState, zk.connectString(), 0));
             CircuitRuntime c = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.connectString()).build())) {
            // the worker waits 1 s for ZooKeeper, not the default 4 s: the JVM property that spawn jvmArgs give it
            // is its runtime's (both spawns have it: one set of JVM options, one class archive, as before)
            SpawnOptions briefWait = SpawnOptions.defaults().withJvmArgs("-Dcircuit.zookeeper.connectTimeoutMs=1000");
            assertThat(c.spawn("nozk", List.of(), () -> 1, briefWait).result()).isEqualTo(1); // the host is known, and linked
            zk.close();
            // before, the error ended with the last frames of the worker's stack trace
            assertThatThrownBy(() -> c.spawn("nozk", List.of(), () -> 2, briefWait))
                .hasMessageContaining("exited with status 1 before it started")
                .hasMessageContaining("worker cannot start: ").hasMessageContaining("within 1000 ms");
        } finally {
            zk.close();
        }
    }

    @Test
    void aWorkerWhoseClusterKeyFileCannotBeLoadedAnyMoreSaysWhyInTheSpawnsError(@TempDir Path keyDir, @TempDir Path zkDir,
                                                                             @TempDir Path otherState) throws Exception {
        io.jcircuit.link.tls.ClusterKey key = io.jcircuit.link.tls.ClusterKey.generate();
        Path file = keyDir.resolve(io.jcircuit.link.tls.ClusterKey.FILE_NAME);
        key.writeTo(file);
        // a circuit of its own: h1's runs without a key, and a host whose key differs from the others' does not start
        // no warm JVM: one started already would have read the key when it was still fine
        try (io.jcircuit.anchor.EmbeddedZooKeeper zk = io.jcircuit.anchor.EmbeddedZooKeeper.start(zkDir, 0);
             HostDaemon h = HostDaemon.start(sharingCaches("keyed", otherState, zk.connectString(), 0).withKey(file, false));
             CircuitRuntime c = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.connectString()).clusterKey(key).build())) {
            // the workers read the file the host was started with, as they start: `cp` or an unpacked archive
            // left it open to others since
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            // before, the error ended with the last frames of the worker's stack trace, the key file's
            // problem being at its top
            assertThatThrownBy(() -> c.spawn("keyed", List.of(), () -> 1))
                .hasMessageContaining("exited with status 1 before it started")
                .hasMessageContaining("worker cannot start: cluster key file " + file + " has mode rw-r--r--")
                .hasMessageContaining("chmod 600 " + file);
        }
    }

    @Test
    void aWorkerWhoseClusterKeyFileWasReplacedSinceItsHostStartedSaysSoAtOnce(@TempDir Path keyDir, @TempDir Path zkDir,
                                                                            @TempDir Path otherState) {
        io.jcircuit.link.tls.ClusterKey key = io.jcircuit.link.tls.ClusterKey.generate();
        Path file = keyDir.resolve(io.jcircuit.link.tls.ClusterKey.FILE_NAME);
        key.writeTo(file);
        try (io.jcircuit.anchor.EmbeddedZooKeeper zk = io.jcircuit.anchor.EmbeddedZooKeeper.start(zkDir, 0);
             HostDaemon h = HostDaemon.start(sharingCaches("rotated", otherState, zk.connectString(), 0).withKey(file, false));
             CircuitRuntime c = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(zk.connectString()).clusterKey(key)
                 .connectTimeoutMs(15_000).build())) {
            // a key rotated in place while the host runs (the README's rotation stops the hosts first)
            io.jcircuit.link.tls.ClusterKey.generate().writeTo(file, true);
            // before, the worker started with the new key, filed itself, and the spawner failed to reach it
            // ("the two sides run with different cluster keys") at the end of its TLS handshake
            assertThatThrownBy(() -> c.spawn("rotated", List.of(), () -> 1))
                .hasMessageContaining("exited with status 1 before it started")
                .hasMessageContaining("worker cannot start: cluster key file " + file + " holds key ")
                .hasMessageContaining(", not " + key.fingerprint() + ", the key its host rotated started with");
        }
    }

    @Test
    void aWorkerStartedAfterTheSpawnersDeadlineIsEnded(@TempDir Path otherState) {
        try (HostDaemon late = HostDaemon.start(sharingCaches("late", otherState, host.zookeeper(), 0))) {
            assertThat(spawner.spawn("late", List.of(), () -> 0).result()).isZero(); // the host has the jars now
            assertThatThrownBy(() -> io.jcircuit.Deadline.within(Duration.ofMillis(150), () -> spawner.spawn("late",
                List.of(), () -> 1, SpawnOptions.defaults().daemonized())))
                .isInstanceOf(io.jcircuit.DeadlineExceededException.class);
            // before, the host went on to start it, daemonized and with no handle anywhere: it ran for good
            Path workers = otherState.resolve("workers");
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                if (!Files.isDirectory(workers)) {
                    return false; // the host is still fetching the jars
                }
                try (var dirs = Files.list(workers)) {
                    return dirs.filter(d -> Files.exists(d.resolve(WorkerDir.EXIT))).count() == 2; // the first, and the late one
                }
            });
        }
    }

    @Test
    void aHostStartedAgainTakesBackTheWorkersThatOutlivedIt(@TempDir Path otherState) throws Exception {
        Spawned<Long> s;
        try (HostDaemon first = HostDaemon.start(sharingCaches("again", otherState, host.zookeeper(), 0))) {
            s = spawner.spawn("again", List.of(), () -> ProcessHandle.current().pid(), SpawnOptions.defaults().daemonized());
        }
        ProcessHandle worker = ProcessHandle.of(s.result()).orElseThrow();
        assertThat(worker.isAlive()).as("a daemonized worker outlives its host").isTrue();
        try (HostDaemon second = HostDaemon.start(sharingCaches("again", otherState, host.zookeeper(), 0))) {
            // before, the host said it ran no worker, and no kill could reach this one
            HostService hs = spawner.worker(second.address()).dial(HostService.SERVICE, HostService.class);
            assertThat(hs.workers()).extracting(SpawnedWorker::id).containsExactly(s.worker().id());
            await().untilAsserted(() -> assertThat(spawner.anchors().list("/host/again").entries())
                .filteredOn(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY)))
                .singleElement().satisfies(e -> assertThat(e.metadata()).containsEntry("workers", "1")));
            s.worker().kill();
            worker.onExit().get(10, TimeUnit.SECONDS);
            await().untilAsserted(() -> assertThat(hs.workers()).isEmpty());
        }
    }

    @Test
    void aWorkersPidFileTellsWhenItHasEndedWithoutAHostToSaySo(@TempDir Path otherState, @TempDir Path copy) throws Exception {
        Path dir;
        long pid;
        try (HostDaemon shortLived = HostDaemon.start(sharingCaches("outlived", otherState, host.zookeeper(), 0))) {
            Spawned<Long> s = spawner.spawn("outlived", List.of(), () -> ProcessHandle.current().pid(),
                SpawnOptions.defaults().daemonized());
            pid = s.result();
            dir = otherState.resolve("workers").resolve(s.worker().id().toString());
        }
        // the worker outlived its host: only its pid file can tell whether it still runs
        String[] pidFile = Files.readString(dir.resolve(WorkerDir.PID)).strip().split(" ");
        assertThat(Long.parseLong(pidFile[0])).isEqualTo(pid);
        assertThat(Long.parseLong(pidFile[1])).isCloseTo(ProcessHandle.of(pid).orElseThrow().info().startInstant()
            .orElseThrow().toEpochMilli(), org.assertj.core.data.Offset.offset(1_000L));
        assertThat(WorkerDir.end(dir)).as("running without its host").isEmpty();
        Files.copy(dir.resolve(WorkerDir.PID), copy.resolve(WorkerDir.PID));

        ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
        worker.destroyForcibly();
        worker.onExit().get(10, TimeUnit.SECONDS);
        // this test's JVM, where the closed host lived, may still have written the exit file; a killed
        // host's would not have: the copy has the pid file alone
        await().untilAsserted(() -> assertThat(WorkerDir.end(copy)).contains("process " + pid + " ended; no exit status was recorded"));
        assertThat(WorkerDir.end(dir)).isPresent();
    }

    /**
     * A worker that ended while its host was down (killed, say) leads no hot swap's forwarding record anywhere:
     * the host deletes those that lead only to it as it starts, although its {@code /worker} entry is still
     * there (the embedded ZooKeeper, started again with the host, keeps the sessions it had until they
     * time out), so that the sweep of the ended workers' records does not take it for ended; it removes
     * that entry first. Before, its records stayed until a host started again after its session had expired.
     */
    @Test
    void aHostDeletesAsItStartsTheForwardingRecordsThatLeadToAWorkerThatEndedWhileItWasDown(@TempDir Path own)
        throws Exception {
        HostDaemon.Config config = sharingCaches("sweeper", own, null, 0); // its own embedded ZooKeeper
        io.jcircuit.WorkerId oldWorker = io.jcircuit.WorkerId.random(); // swapped to the worker, and gone
        io.jcircuit.WorkerId worker;
        long pid;
        try (HostDaemon h = HostDaemon.start(config);
             CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(h.zookeeper()).build())) {
            Spawned<Long> s = rt.spawn("sweeper", List.of(), () -> ProcessHandle.current().pid(), SpawnOptions.defaults()
                .daemonized().withJvmArgs("-Dcircuit.zookeeper.sessionTimeoutMs=300000")); // its entry outlasts it
            worker = s.worker().id();
            pid = s.result();
            // what the old worker's hot swap to it wrote: the record, and its index entry under the worker it points at
            rt.durable().putBytes("/moved/" + oldWorker + "/1", new byte[] {1});
            rt.durable().putBytes("/moved-to/" + worker + "/1/" + oldWorker + "/1",
                ("/moved/" + oldWorker + "/1").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
        process.destroyForcibly(); // while its host is down
        process.onExit().get(10, TimeUnit.SECONDS);

        try (HostDaemon h = HostDaemon.start(config);
             CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(h.zookeeper()).build())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> rt.durable().listAll("/moved").entries().isEmpty()
                && rt.durable().listAll("/moved-to").entries().isEmpty());
            assertThat(rt.anchors().list("/worker").entries()).extracting(Entry::worker)
                .as("the entry its session (not timed out) kept is removed first, as at a worker's end").doesNotContain(worker);
        }
    }

    /** Writes what a hot swap of {@code oldWorker}'s export 1 to {@code worker}'s export 1 writes: the record, and its index entry. */
    private static void recordASwap(io.jcircuit.WorkerId oldWorker, io.jcircuit.WorkerId worker) {
        spawner.durable().putBytes("/moved/" + oldWorker + "/1", new byte[] {1});
        spawner.durable().putBytes("/moved-to/" + worker + "/1/" + oldWorker + "/1",
            ("/moved/" + oldWorker + "/1").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Whether the record of {@code oldWorker}'s swap to {@code worker} ({@link #recordASwap}) and its index entry are there. */
    private static boolean recorded(io.jcircuit.WorkerId oldWorker, io.jcircuit.WorkerId worker) {
        return spawner.durable().getBytes("/moved/" + oldWorker + "/1").isPresent()
            && !spawner.durable().listAll("/moved-to/" + worker).entries().isEmpty();
    }

    /**
     * A worker that an ended swap led to, swept after any other: {@code /moved-to}'s directories are swept in
     * the order of their names, so once a host's sweep has deleted the record that leads to it, it has
     * decided on every other worker.
     */
    private static final io.jcircuit.WorkerId SWEPT_LAST = io.jcircuit.WorkerId.parse("Rffffffffffffffff");

    /**
     * What the expiry of a stopped worker's ZooKeeper session does: its entries go, while its process runs
     * on and its host still counts it.
     */
    private static void expireTheSessionOf(io.jcircuit.WorkerId worker, String hostName) throws Exception {
        try (org.apache.curator.framework.CuratorFramework raw = org.apache.curator.framework.CuratorFrameworkFactory
                 .newClient(host.zookeeper(), new org.apache.curator.retry.RetryOneTime(100))) {
            raw.start();
            raw.delete().forPath("/jcircuit/anchors/worker/" + worker);
            raw.delete().forPath("/jcircuit/anchors/host/" + hostName + "/" + worker);
        }
        assertThat(spawner.anchors().listAll("/").entries()).noneMatch(e -> e.worker().equals(worker));
    }

    /**
     * A worker stopped past its ZooKeeper session (its entries gone, as the session's expiry does) is not
     * taken for ended by the sweep of a host that starts meanwhile, since its own host still runs it: the
     * forwarding records that lead to it stay, for it files itself again once it runs again. Before, a
     * worker without a {@code /worker} entry counted as ended, and they were deleted.
     */
    @Test
    void aHostStartingKeepsTheForwardingRecordsThatLeadToAWorkerThatAnotherHostRunsWithoutItsSession(@TempDir Path own)
        throws Exception {
        Spawned<Long> s = spawner.spawn("h1", List.of(), () -> ProcessHandle.current().pid(),
            SpawnOptions.defaults().daemonized());
        long pid = s.result();
        io.jcircuit.WorkerId worker = s.worker().id();
        io.jcircuit.WorkerId oldWorker = io.jcircuit.WorkerId.random(); // swapped to the worker, and gone
        io.jcircuit.WorkerId ended = io.jcircuit.WorkerId.random();
        recordASwap(oldWorker, worker);
        recordASwap(ended, SWEPT_LAST); // a swap to a worker that has ended: its record goes in the sweep
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero();
        try {
            expireTheSessionOf(worker, "h1");

            try (HostDaemon h2 = HostDaemon.start(new HostDaemon.Config("h2", own, host.zookeeper(), null, 0, 0))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> !recorded(ended, SWEPT_LAST));
                assertThat(recorded(oldWorker, worker)).as("it leads to a worker that runs").isTrue();
            }
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
            s.worker().kill(); // its host sees it end, and deletes the record that leads to it
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> !recorded(oldWorker, worker));
    }

    /**
     * A worker that outlived its host's last run (daemonized) and lost its ZooKeeper session meanwhile (stopped,
     * its entries gone) is not taken back by its host as it starts again: it is not filed. It is not taken for
     * ended either, as its process runs (its directory's pid file names it): the forwarding records that lead
     * to it stay. Before, they were deleted.
     */
    @Test
    void aHostStartingKeepsTheForwardingRecordsThatLeadToItsOwnWorkerThatRunsWithoutItsSession(@TempDir Path own)
        throws Exception {
        HostDaemon.Config config = sharingCaches("h3", own, host.zookeeper(), 0);
        io.jcircuit.WorkerId worker;
        long pid;
        try (HostDaemon h3 = HostDaemon.start(config)) {
            Spawned<Long> s = spawner.spawn("h3", List.of(), () -> ProcessHandle.current().pid(),
                SpawnOptions.defaults().daemonized());
            worker = s.worker().id();
            pid = s.result();
        }
        io.jcircuit.WorkerId oldWorker = io.jcircuit.WorkerId.random();
        io.jcircuit.WorkerId ended = io.jcircuit.WorkerId.random();
        recordASwap(oldWorker, worker);
        recordASwap(ended, SWEPT_LAST);
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero();
        try {
            expireTheSessionOf(worker, "h3");

            try (HostDaemon h3 = HostDaemon.start(config)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> !recorded(ended, SWEPT_LAST));
                assertThat(recorded(oldWorker, worker)).as("it leads to a worker that runs").isTrue();
            }
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // no host counts it
            spawner.durable().delete("/moved/" + oldWorker + "/1");
            spawner.durable().delete("/moved-to/" + worker + "/1/" + oldWorker + "/1");
        }
    }

    /** A ZooKeeper session that a stopped worker outlasts soon: 4 ticks of the embedded ZooKeeper. */
    private static final int SHORT_SESSION_MS = 2_000;

    /**
     * A worker that outlived its host's last run (daemonized) and lost its ZooKeeper session while the host
     * was down is not filed as the host starts again; it files itself again once it runs, with a new
     * session, and the host takes it back then: it lists it, a kill reaches it, and its end removes its
     * entries and the forwarding records that lead to it. Before, the host took back only the workers
     * filed as it started: this one ran on unknown to it, no kill reached it, and its end was not handled.
     */
    @Test
    void aHostTakesBackAWorkerOfItsLastRunThatFilesItselfAgainAfterItStarted(@TempDir Path own) throws Exception {
        HostDaemon.Config config = new HostDaemon.Config("h4", own, host.zookeeper(), null, 0, 0);
        Spawned<Long> s;
        try (HostDaemon before = HostDaemon.start(config)) {
            s = spawner.spawn("h4", List.of(), () -> ProcessHandle.current().pid(), SpawnOptions.defaults().daemonized()
                .withJvmArgs("-Dcircuit.zookeeper.sessionTimeoutMs=" + SHORT_SESSION_MS));
        }
        io.jcircuit.WorkerId worker = s.worker().id();
        long pid = s.result();
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
        io.jcircuit.WorkerId oldWorker = io.jcircuit.WorkerId.random(); // swapped to the worker, and gone
        try {
            signal("STOP", pid);
            // its host is down, and its session expires while it is stopped: its entries go
            await().atMost(Duration.ofSeconds(60)).until(() -> !filed(worker));
            try (HostDaemon after = HostDaemon.start(config)) {
                HostService hs = spawner.worker(after.address()).dial(HostService.SERVICE, HostService.class);
                assertThat(hs.workers()).as("not filed as its host starts, it is not taken back then").isEmpty();
                recordASwap(oldWorker, worker);

                signal("CONT", pid); // it files itself again, with a new session
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(hs.workers()).extracting(SpawnedWorker::id).containsExactly(worker));
                await().untilAsserted(() -> assertThat(spawner.anchors().list("/host/h4").entries())
                    .filteredOn(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY)))
                    .singleElement().satisfies(e -> assertThat(e.metadata()).containsEntry("workers", "1")));
                assertThat(recorded(oldWorker, worker)).as("it leads to a worker that runs").isTrue();

                s.worker().kill(); // its spawner asks the host it is filed under
                process.onExit().get(10, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(30)).until(() -> hs.workers().isEmpty() && !filed(worker)
                    && !recorded(oldWorker, worker));
            }
        } finally {
            process.destroyForcibly(); // stopped or not; no host counts it when the test failed
            process.onExit().get(10, TimeUnit.SECONDS);
            spawner.durable().delete("/moved/" + oldWorker + "/1");
            spawner.durable().delete("/moved-to/" + worker + "/1/" + oldWorker + "/1");
        }
    }

    /**
     * A worker of its host's last run that is not filed as the host starts (stopped past its ZooKeeper
     * session) is not taken back yet, but a kill that asks its host reaches it ({@code circuit kill ID} of a
     * worker no longer filed asks every host), and its end is handled: the forwarding records that lead to
     * it go. Before, the host answered that it did not run it.
     */
    @Test
    void aHostKillsAWorkerOfItsLastRunThatIsNotFiledYet(@TempDir Path own) throws Exception {
        HostDaemon.Config config = new HostDaemon.Config("h5", own, host.zookeeper(), null, 0, 0);
        io.jcircuit.WorkerId worker;
        long pid;
        try (HostDaemon before = HostDaemon.start(config)) {
            Spawned<Long> s = spawner.spawn("h5", List.of(), () -> ProcessHandle.current().pid(),
                SpawnOptions.defaults().daemonized());
            worker = s.worker().id();
            pid = s.result();
        }
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
        io.jcircuit.WorkerId oldWorker = io.jcircuit.WorkerId.random();
        try {
            signal("STOP", pid);
            expireTheSessionOf(worker, "h5");
            try (HostDaemon after = HostDaemon.start(config)) {
                recordASwap(oldWorker, worker);
                HostService hs = spawner.worker(after.address()).dial(HostService.SERVICE, HostService.class);
                assertThat(hs.workers()).as("not filed, it is not taken back").isEmpty();

                assertThat(hs.kill(worker)).as("it runs from the host's workers directory").isTrue();
                process.onExit().get(10, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(30)).until(() -> !recorded(oldWorker, worker));
            }
        } finally {
            process.destroyForcibly(); // no host counts it when the test failed
            process.onExit().get(10, TimeUnit.SECONDS);
            spawner.durable().delete("/moved/" + oldWorker + "/1");
            spawner.durable().delete("/moved-to/" + worker + "/1/" + oldWorker + "/1");
        }
    }

    /**
     * A worker of its host's last run that is not filed yet (stopped past its ZooKeeper session) runs, though
     * no host lists it among its workers: the sweep of another runtime, which has no link to it, keeps the
     * forwarding records that lead to it, as its host answers that it runs it (its directory's pid file names
     * its process). Once it has ended, they go. Before, the hosts were asked which workers they list, and the
     * sweep of any runtime but its host's own took it for ended and deleted them: a caller that came back
     * later lost the forward.
     */
    @Test
    void anotherRuntimesSweepKeepsTheForwardingRecordsThatLeadToAWorkerOfAHostsLastRunThatIsNotFiledYet(@TempDir Path own)
        throws Exception {
        HostDaemon.Config config = sharingCaches("h6", own, host.zookeeper(), 0);
        io.jcircuit.WorkerId worker;
        long pid;
        try (HostDaemon before = HostDaemon.start(config)) {
            Spawned<Long> s = spawner.spawn("h6", List.of(), () -> ProcessHandle.current().pid(),
                SpawnOptions.defaults().daemonized());
            worker = s.worker().id();
            pid = s.result();
        }
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
        io.jcircuit.WorkerId oldWorker = io.jcircuit.WorkerId.random(); // swapped to the worker, and gone
        io.jcircuit.WorkerId ended = io.jcircuit.WorkerId.random();
        try {
            signal("STOP", pid);
            expireTheSessionOf(worker, "h6");
            try (HostDaemon after = HostDaemon.start(config);
                 CircuitRuntime other = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(host.zookeeper()).build())) {
                HostService hs = spawner.worker(after.address()).dial(HostService.SERVICE, HostService.class);
                assertThat(hs.workers()).as("not filed, it is not taken back").isEmpty();
                assertThat(hs.running(java.util.Set.of(worker, ended))).as("but it runs there").containsExactly(worker);
                recordASwap(oldWorker, worker); // after its host's own sweep, as it started
                recordASwap(ended, SWEPT_LAST); // a swap to a worker that has ended: its record goes in the sweep

                other.forgetForwardsToEndedWorkers();
                await().atMost(Duration.ofSeconds(30)).until(() -> !recorded(ended, SWEPT_LAST));
                assertThat(recorded(oldWorker, worker)).as("it leads to a worker that runs").isTrue();

                process.destroyForcibly();
                process.onExit().get(10, TimeUnit.SECONDS);
                other.forgetForwardsToEndedWorkers(); // its host, seeing it end, deletes them too
                await().atMost(Duration.ofSeconds(30)).until(() -> !recorded(oldWorker, worker));
            }
        } finally {
            process.destroyForcibly(); // stopped or not; no host counts it
            process.onExit().get(10, TimeUnit.SECONDS);
            spawner.durable().delete("/moved/" + oldWorker + "/1");
            spawner.durable().delete("/moved-to/" + worker + "/1/" + oldWorker + "/1");
            spawner.durable().delete("/moved/" + ended + "/1");
            spawner.durable().delete("/moved-to/" + SWEPT_LAST + "/1/" + ended + "/1");
        }
    }

    /** Whether {@code worker} has any entry in the namespace. */
    private static boolean filed(io.jcircuit.WorkerId worker) {
        return spawner.anchors().listAll("/").entries().stream().anyMatch(e -> e.worker().equals(worker));
    }

    /** Sends {@code signal} (STOP, CONT) to process {@code pid}. */
    private static void signal(String signal, long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start().waitFor()).isZero();
    }

    @Test
    void aHostGivenARelativeStateDirectoryStartsWorkersThatFindTheirJars() throws Exception {
        Path relative = Path.of("target", "relative-state-" + ProcessHandle.current().pid());
        try (HostDaemon rel = HostDaemon.start(new HostDaemon.Config("relative", relative, host.zookeeper(), null, 0, 0))) {
            assertThat(spawner.spawn("relative", List.of(), () -> 6 * 7).result()).isEqualTo(42);
        } finally {
            Dirs.deleteTree(relative);
        }
    }

    @Test
    void aFailingFunctionFailsTheSpawn() {
        assertThatThrownBy(() -> spawner.spawn("h1", List.of("/spawn/fail"), () -> {
            throw new IllegalStateException("no thanks");
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("no thanks");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
            assertThat(spawner.anchors().listAll("/spawn/fail").entries()).isEmpty());
    }

    @Test
    void aFailingFunctionLeavesNoDaemonizedWorkerBehind(@TempDir Path dir) throws Exception {
        // the caller gets no handle to the worker of a failed spawn: daemonized or not, it must not stay
        String pidFile = dir.resolve("pid").toString();
        assertThatThrownBy(() -> spawner.spawn("h1", List.of("/spawn/faildaemon"), () -> {
            Files.writeString(Path.of(pidFile), Long.toString(ProcessHandle.current().pid()));
            throw new IllegalStateException("no thanks");
        }, SpawnOptions.defaults().daemonized())).isInstanceOf(IllegalStateException.class);
        long pid = Long.parseLong(Files.readString(Path.of(pidFile)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        assertThat(spawner.anchors().listAll("/spawn/faildaemon").entries()).isEmpty();

        // a checked exception (a missing class, say) arrives as it was thrown, and ends the worker too
        String pidFile2 = dir.resolve("pid2").toString();
        assertThatThrownBy(() -> spawner.spawn("h1", List.of("/spawn/faildaemon"), () -> {
            Files.writeString(Path.of(pidFile2), Long.toString(ProcessHandle.current().pid()));
            throw new ClassNotFoundException("no.such.Class");
        }, SpawnOptions.defaults().daemonized())).isInstanceOf(ClassNotFoundException.class);
        long pid2 = Long.parseLong(Files.readString(Path.of(pidFile2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid2).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void theHostSaysItIsFiledUnderItsHostDirectory() {
        // what 'circuit peek' shows of the host: before, only /worker, though 'ls' listed it under /host/h1
        assertThat(host.runtime().anchors().filed()).contains("/host/h1");
    }

    @Test
    void aWorkersOutputIsReadOnAPlatformThreadThatHoldsNoCarrier() {
        // A virtual thread blocked on the worker's stdout pipe holds its carrier; with two idle workers
        // on a 2-CPU host, those readers took both carriers and no call into the host ran again.
        Worker w = spawner.spawn("h1", List.of(), () -> 1, SpawnOptions.defaults().daemonized()).worker();
        try {
            assertThat(Thread.getAllStackTraces().keySet()) // platform threads only
                .filteredOn(t -> t.getName().equals("worker-out-" + w.id()))
                .singleElement().satisfies(t -> assertThat(t.isDaemon()).isTrue());
        } finally {
            w.kill();
        }
    }

    /**
     * What a worker prints without a line break (a progress counter, a prompt) is in its stdout file
     * while it runs. Before, the host read the pipe line by line and wrote only whole lines.
     */
    @Test
    void whatAWorkerPrintsWithoutALineBreakReachesItsStdoutFile() {
        Spawned<String> s = spawner.spawn("h1", List.of(), () -> {
            System.out.print("progress 42%");
            System.out.flush();
            return "printed";
        }, SpawnOptions.defaults().daemonized());
        Path out = state.resolve("workers").resolve(s.worker().id().toString()).resolve("stdout");
        try {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Files.readString(out)).as("the worker's stdout file while it runs").endsWith("progress 42%"));
        } finally {
            s.worker().kill();
        }
    }

    /**
     * A worker's stdout file holds the bytes it printed. Before, they were decoded as UTF-8 and encoded
     * again (a byte that is not UTF-8 became U+FFFD), and CR LF became LF.
     */
    @Test
    void aWorkersStdoutFileHoldsTheBytesItPrinted() {
        byte[] printed = {'c', 'a', 'f', (byte) 0xE9, '\r', '\n', 'o', 'k', '\n'};
        Spawned<String> s = spawner.spawn("h1", List.of(), () -> {
            java.io.FileOutputStream raw = new java.io.FileOutputStream(java.io.FileDescriptor.out);
            raw.write(printed);
            raw.flush();
            return "printed";
        }, SpawnOptions.defaults().daemonized());
        Path out = state.resolve("workers").resolve(s.worker().id().toString()).resolve("stdout");
        try {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Files.readAllBytes(out)).as("the worker's stdout file").containsSubsequence(printed));
        } finally {
            s.worker().kill();
        }
    }

    @Test
    void aJvmThatCannotStartFailsTheSpawnWithItsStatusAndStderr() {
        // before, this waited for the JVM's output, then said it "did not start within 60000 ms"
        assertThatThrownBy(() -> spawner.spawn("h1", List.of("/spawn/badjvm"), () -> 1,
            SpawnOptions.defaults().withJvmArgs("-XX:+NoSuchJCircuitOption")))
            .isInstanceOf(io.jcircuit.CircuitException.class)
            .hasMessageContaining("exited with status 1 before it started")
            .hasMessageContaining("Unrecognized VM option 'NoSuchJCircuitOption'")
            .hasMessageNotContaining("did not start within");
        assertThat(spawner.anchors().listAll("/spawn/badjvm").entries()).isEmpty();
    }

    @Test
    void aJvmWithANativeAgentStartsThoughItsOptionsHaveNoClassArchiveYet() {
        // the first JVM of a new set of options is told to write the class archive, which a JVM with a
        // native agent refuses to do at start ("CDS dumping does not support native JVMTI agent")
        String jdwp = "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:0";
        Spawned<String> s = spawner.spawn("h1", List.of(), () -> String.join(" ",
            java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()),
            SpawnOptions.defaults().withJvmArgs(jdwp));
        assertThat(s.result()).contains(jdwp).doesNotContain("SharedArchiveFile");
    }

    @Test
    void aHostStartedAgainUnderItsNameServesTheNextSpawn(@TempDir Path first, @TempDir Path second) {
        try (HostDaemon before = HostDaemon.start(sharingCaches("again", first, host.zookeeper(), 0))) {
            assertThat(spawner.spawn("again", List.of(), () -> 1).result()).isEqualTo(1);
        }
        // a new daemon: another worker id and port under the same name; the spawner saw the first one
        try (HostDaemon after = HostDaemon.start(sharingCaches("again", second, host.zookeeper(), 0))) {
            Spawned<Integer> s = spawner.spawn("again", List.of(), () -> 2);
            assertThat(s.result()).isEqualTo(2);
            assertThat(spawner.anchors().list("/host/again").entries()).extracting(Entry::worker)
                .contains(after.runtime().id(), s.worker().id());
        }
    }

    @Test
    void anUnknownHostIsNamedWithTheRunningOnes() {
        assertThatThrownBy(() -> spawner.spawn("nope", List.of(), () -> 1))
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("no host named 'nope'").hasMessageContaining("h1");
    }
}
