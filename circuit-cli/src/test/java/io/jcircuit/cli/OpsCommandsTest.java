package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.Setting;
import io.jcircuit.Spawned;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every verb built on the ops service, run as a user runs it against real worker JVMs: two workers
 * under {@code /app} on one host, where {@code caller} calls {@code echo} in a loop so that flows exist.
 */
@Tag("slow")
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpsCommandsTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    /** What the test holds in each worker: holding it keeps the worker alive. */
    public interface Handle {
        String name();

        /** The value of the worker's setting {@code app.greeting}, as the worker's own code sees it. */
        String greeting();

        /** How many times the greeting listener ran. */
        int changes();
    }

    record Echo(Handle handle) implements Serializable {
    }

    static final class Worker implements Handle {
        final String name;
        final Setting<String> greeting;
        final java.util.concurrent.atomic.AtomicInteger changes = new java.util.concurrent.atomic.AtomicInteger();

        Worker(String name) {
            this.name = name;
            this.greeting = Circuit.current().settings().define("app.greeting", String.class, "hello",
                v -> v.isBlank() ? "must not be blank" : null);
            greeting.onChange(v -> changes.incrementAndGet());
            LoggerFactory.getLogger("app." + name).warn("worker {} up, marker-{}", name, name); // the test config logs WARN and up
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String greeting() {
            return greeting.get();
        }

        @Override
        public int changes() {
            return changes.get();
        }
    }

    static CircuitRuntime client;
    static Spawned<Handle> echo;
    static Spawned<Handle> caller;
    static Map<String, String> env;

    @BeforeAll
    static void spawn() {
        client = circuit.newClient();
        env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        String host = circuit.hosts().getFirst();
        echo = client.spawn(host, List.of("/app/echo"), () -> Circuit.current().ref(Handle.class, new Worker("echo")));
        Handle target = echo.result();
        caller = client.spawn(host, List.of("/app/caller"), () -> {
            Handle mine = Circuit.current().ref(Handle.class, new Worker("caller"));
            Thread.ofVirtual().start(() -> {
                while (true) {
                    try {
                        target.name();
                    } catch (RuntimeException e) {
                        return; // echo is gone
                    }
                }
            });
            return mine;
        });
    }

    @AfterAll
    static void close() {
        if (client != null) {
            client.close();
        }
    }

    static CliRun.Result run(String... args) {
        CliRun.Result r = CliRun.run(env, args);
        return r;
    }

    /** The worker ids in {@code peek --json}'s peers list. */
    private static String peersJson(String json) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"peers\":\\[([^]]*)]").matcher(json);
        assertThat(m.find()).as(json).isTrue();
        return m.group(1);
    }

    /** The worker ids on {@code peek}'s peers line. */
    private static String peersLine(String peek) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("peers +(.*)").matcher(peek);
        assertThat(m.find()).as(peek).isTrue();
        return m.group(1).strip();
    }

    @Test
    @Order(1)
    void lsAndPeekShowTheWorkers() {
        CliRun.Result ls = run("ls", "/app/...");
        assertThat(ls.code()).as(ls.err()).isZero();
        assertThat(ls.out()).contains("/app/echo/" + echo.worker().id()).contains("/app/caller/" + caller.worker().id());

        CliRun.Result peek = run("peek", "/app/echo");
        assertThat(peek.code()).as(peek.err()).isZero();
        assertThat(peek.out()).contains(echo.worker().id().toString()).contains("/app/echo").contains("circuit.ops");
        // "host" is the host daemon, as in 'circuit hosts' (before: the machine's name)
        assertThat(peek.out()).containsPattern("host +" + circuit.hosts().getFirst() + " \\(machine [^,]+, pid \\d+\\)");
        // its own runtime, a new one each time, is not among the worker's peers (before: it was, so two peeks differed)
        // (an earlier peek's runtime may still be listed until the worker has its goodbye: asked again until two agree)
        assertThat(peersLine(peek.out())).contains(client.id().toString());
        // (untilAsserted: a peek whose worker did not answer has no peers line, and is asked again)
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(peersLine(run("peek", "/app/echo").out()))
            .isEqualTo(peersLine(run("peek", "/app/echo").out())));

        // nor among the peers peek --json lists (before: there, so two runs never agreed)
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(peersJson(run("peek", "--json", "/app/echo").out()))
            .isEqualTo(peersJson(run("peek", "--json", "/app/echo").out())));
        CliRun.Result json = run("peek", "--json", "/app/...");
        assertThat(json.out()).startsWith("{\"workers\":[").contains("\"pid\":").contains(caller.worker().id().toString());
        // "host" means the host daemon in every verb's JSON, as in top's; the machine is "machine" (before: "host" was the machine's name here)
        String daemon = circuit.hosts().getFirst();
        assertThat(json.out()).contains("\"host\":\"" + daemon + "\",\"machine\":\"");
        CliRun.Result lsJson = run("ls", "--json", "/app/echo");
        assertThat(lsJson.out()).as(lsJson.err()).contains("\"host\":\"" + daemon + "\",\"machine\":\"");
        assertThat(run("ls", "-l", "/app/echo").out()).containsPattern("/app/echo/" + echo.worker().id() + " +\\S+ +" + daemon + " +pid ");

        CliRun.Result none = run("peek", "/nothing/here");
        assertThat(none.code()).isNotZero();
        assertThat(none.err()).contains("no worker is filed in /nothing/here");

        // ls prints directories with a trailing slash; the commands take them back as printed
        CliRun.Result top = run("ls", "/app");
        assertThat(top.out()).contains("/app/echo/");
        CliRun.Result asPrinted = run("ls", "/app/echo/");
        assertThat(asPrinted.code()).as(asPrinted.err()).isZero();
        assertThat(asPrinted.out()).contains("/app/echo/" + echo.worker().id());
        assertThat(run("peek", "/app/echo/").out()).contains(echo.worker().id().toString());

        // an id in capitals names the same worker (before: "no entry /worker/R7F...")
        String upper = "R" + echo.worker().id().toString().substring(1).toUpperCase(java.util.Locale.ROOT);
        CliRun.Result capitals = run("peek", upper);
        assertThat(capitals.code()).as(capitals.err()).isZero();
        assertThat(capitals.out()).contains(echo.worker().id().toString());
        assertThat(run("peek", "/app/echo/" + upper).out()).contains(echo.worker().id().toString());
        // nothing is below an entry: at or below it is the entry (before: "bad anchor path ... must not look like them")
        CliRun.Result below = run("peek", "/app/echo/" + echo.worker().id() + "/...");
        assertThat(below.code()).as(below.err()).isZero();
        assertThat(below.out()).startsWith(echo.worker().id().toString()).doesNotContain("/app/caller");
        CliRun.Result through = run("peek", "/app/echo/" + echo.worker().id() + "/x");
        assertThat(through.code()).isEqualTo(1);
        assertThat(through.err()).contains("is a worker id, which names an entry, and nothing is filed below an entry");

        String shortId = echo.worker().id().toString().substring(0, 16);
        CliRun.Result typo = run("peek", shortId);
        assertThat(typo.code()).isNotZero();
        assertThat(typo.err()).contains("'" + shortId + "' is neither a worker id (R followed by 16 hex digits)"
            + " nor an anchor path (starting with '/')");
    }

    /**
     * The JVM a host keeps warm for the next spawn is filed under /worker, but is no worker yet: {@code ls -l}
     * says standby for its code, and a directory selector leaves it out. Before, {@code ls -l} showed its
     * code as '-', and {@code top} and {@code peek} listed it among the workers.
     */
    @Test
    @Order(1)
    void aWarmJvmIsShownAsStandbyAndLeftOutOfDirectorySelectors() throws Exception {
        String host = circuit.hosts().getFirst();
        assertThat(circuit.host(host).awaitWarmReady(1, Duration.ofSeconds(60))).isTrue();
        String warm = await().atMost(Duration.ofSeconds(30)).until(() -> client.anchors().list("/host/" + host).entries().stream()
            .map(e -> e.metadata().getOrDefault(io.jcircuit.runtime.host.HostService.WARM_KEY, "").strip())
            .filter(w -> !w.isEmpty()).findFirst(), java.util.Optional::isPresent).orElseThrow().split(" ")[0];

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(run("ls", "-l", "/worker/" + warm).out())
            .containsPattern("/worker/" + warm + " .* standby\\s*$"));
        assertThat(run("ls", "/worker").out()).as("the short form marks it too").containsPattern("/worker/" + warm + " +standby")
            .containsPattern("(?m)^/worker/" + echo.worker().id() + "\\s*$");
        CliRun.Result all = run("peek", "--json", "/worker");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).contains(echo.worker().id().toString()).doesNotContain(warm);
        CliRun.Result named = run("peek", warm);
        assertThat(named.code()).as("named by its id, it is peeked: " + named.err()).isZero();
        assertThat(named.out()).contains(warm);
    }

    @Test
    @Order(2)
    void topAndFlowShowTheCallsBetweenWorkers() {
        CliRun.Result top = run("top", "--once", "--json", "--interval", "1", "/app/...");
        assertThat(top.code()).as(top.err()).isZero();
        assertThat(top.out()).contains("\"worker\":\"" + echo.worker().id() + "\"").contains("\"callsInPerSec\":")
            .contains("\"host\":\"" + circuit.hosts().getFirst() + "\",\"machine\":");
        assertThat(callsPerSec(top.out(), echo.worker().id().toString(), "callsInPerSec")).isPositive();

        CliRun.Result flow = run("flow", "--json", "--interval", "1", "/app/...");
        assertThat(flow.code()).as(flow.err()).isZero();
        assertThat(flow.out()).contains("\"from\":\"" + caller.worker().id() + "\",\"to\":\"" + echo.worker().id() + "\"");
        assertThat(callsPerSec(flow.out(), caller.worker().id().toString(), "callsPerSec")).isPositive();

        CliRun.Result table = run("flow", "--interval", "0.5", "/app/...");
        assertThat(table.out()).contains("FROM \\ TO").contains(WorkerOps.shortId(echo.worker().id().toString()));
    }

    /** The number after {@code "key":} in the object that names {@code worker} first. */
    private static double callsPerSec(String json, String worker, String key) {
        int at = json.indexOf("\"" + worker + "\"");
        int k = json.indexOf("\"" + key + "\":", at);
        int end = k + key.length() + 3;
        int stop = end;
        while (stop < json.length() && "0123456789.-E".indexOf(json.charAt(stop)) >= 0) {
            stop++;
        }
        return Double.parseDouble(json.substring(end, stop));
    }

    @Test
    @Order(3)
    void stackShowsVirtualThreads() {
        CliRun.Result r = run("stack", "/app/caller");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("=== " + caller.worker().id()).contains("OpsCommandsTest");
        CliRun.Result json = run("stack", "--json", "/app/caller");
        assertThat(json.out()).startsWith("{\"worker\":\"" + caller.worker().id() + "\",\"threadDump\":{");
        assertThat(json.out().strip().lines()).as("one JSON object per worker per line, as its help says").hasSize(1);
        assertThat(json.out()).contains("OpsCommandsTest");
    }

    @Test
    @Order(4)
    void anOutputFileThatCannotBeWrittenIsRefusedBeforeTheWorkerIsAsked(@TempDir Path dir) {
        Path nowhere = dir.resolve("no-such-dir");
        // the message comes from the check made first; after a profile, the old one named no reason
        CliRun.Result profile = run("profile", "--cpu", "--seconds", "30", "-o", nowhere.resolve("x.html").toString(), "/app/caller");
        CliRun.Result heap = run("heap", "--dump", nowhere.resolve("x.hprof").toString(), "/app/caller");
        assertThat(profile.code()).isEqualTo(1);
        assertThat(profile.err()).contains("cannot write " + nowhere.resolve("x.html") + ": no directory " + nowhere);
        assertThat(heap.code()).isEqualTo(1);
        assertThat(heap.err()).contains("cannot write " + nowhere.resolve("x.hprof") + ": no directory " + nowhere);
    }

    @Test
    @Order(4)
    void profileWritesAFlameGraph(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("cpu.html");
        CliRun.Result r = run("profile", "--cpu", "--seconds", "2", "-o", out.toString(), "/app/caller");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("profiling 1 worker(s), cpu [").contains("100%");
        assertThat(Files.readString(out)).containsIgnoringCase("<html").contains("OpsCommandsTest");

        // a profile leaves the worker's stdout, the application's output, alone (before: async-profiler wrote
        // "[INFO] No samples were collected" there, from a lock profile of a worker without contention)
        CliRun.Result lock = run("profile", "--lock", "--seconds", "1", "-o", dir.resolve("lock.html").toString(), "/app/echo");
        assertThat(lock.code()).as(lock.err()).isZero();
        CliRun.Result stdout = run("log", "--stdout", "/app/echo");
        assertThat(stdout.code()).as(stdout.err()).isZero();
        assertThat(stdout.out()).contains("marker-echo").doesNotContainPattern("(?m)^\\[(INFO|WARN|ERROR)\\]");
    }

    @Test
    @Order(5)
    void heapHistogramAndStreamedDump(@TempDir Path dir) throws Exception {
        CliRun.Result h = run("heap", "--histo", "--top", "5", "--json", "/app/echo");
        assertThat(h.code()).as(h.err()).isZero();
        assertThat(h.out()).contains("\"rank\":1").contains("\"class\":");

        Path dump = dir.resolve("echo.hprof");
        CliRun.Result d = run("heap", "--dump", dump.toString(), "/app/echo/" + echo.worker().id());
        assertThat(d.code()).as(d.err()).isZero();
        assertThat(d.err()).contains("heap dump of").contains("100%");
        assertThat(Files.size(dump)).isGreaterThan(1 << 20);
        try (var in = Files.newInputStream(dump)) {
            assertThat(new String(in.readNBytes(18))).isEqualTo("JAVA PROFILE 1.0.2");
        }
        assertThat(run("heap", "--dump", dump.toString(), "/app/echo").err()).contains("exists");
    }

    @Test
    @Order(6)
    void logTailAndFollow() {
        CliRun.Result tail = run("log", "-n", "50", "/app/echo");
        assertThat(tail.code()).as(tail.err()).isZero();
        assertThat(tail.out()).contains("marker-echo");

        CliRun.Result follow = run("log", "-f", "--for", "3", "-n", "5", "/app/...");
        assertThat(follow.code()).as(follow.err()).isZero();
        assertThat(follow.out()).contains(WorkerOps.shortId(echo.worker().id().toString()) + " ");
    }

    @Test
    @Order(6)
    void logFollowEndsWhenTheWorkersItFollowsEnd() throws Exception {
        Spawned<Handle> doomed = client.spawn(circuit.hosts().getFirst(), List.of("/app/doomed"),
            () -> Circuit.current().ref(Handle.class, new Worker("doomed")));
        CliRun cli = CliRun.with(env);
        java.util.concurrent.CompletableFuture<CliRun.Result> follow = java.util.concurrent.CompletableFuture.supplyAsync(
            () -> cli.execute("log", "-f", "--for", "120", "-n", "5", "/app/doomed"));
        // the worker's start-up line comes through once the follow is set up; then the worker goes
        await().atMost(Duration.ofSeconds(30)).until(() -> cli.out().contains("marker-doomed"));
        doomed.worker().kill();
        CliRun.Result r = follow.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains(doomed.worker().id() + " ended (it left /worker); no worker left to follow");
    }

    @Test
    @Order(6)
    void logReadsAWorkersFilesOnItsHostAlsoAfterItEnded() {
        String host = circuit.hosts().getFirst();
        Spawned<Long> printer = client.spawn(host, List.of("/app/printer"), () -> {
            System.out.println("printed to stdout");
            System.err.println("printed to stderr");
            return ProcessHandle.current().pid();
        });
        long pid = printer.result();
        String id = printer.worker().id().toString();
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));

        // ended: no ops service to ask, so its host's directory speaks for it (DESIGN §3)
        await().atMost(Duration.ofSeconds(10)).until(() -> run("log", id).out().contains("exit status 0"));
        CliRun.Result err = run("log", id);
        assertThat(err.code()).as(err.err()).isZero();
        assertThat(err.out()).startsWith("worker " + id + " has ended (exit status 0); the end of its stderr on host " + host + ":")
            .contains("printed to stderr").doesNotContain("printed to stdout");
        CliRun.Result out = run("log", "--stdout", "-n", "5", "/worker/" + id);
        assertThat(out.code()).as(out.err()).isZero();
        assertThat(out.out()).contains("the end of its stdout").contains("printed to stdout");
        assertThat(run("log", "--stdout", "--json", id).out())
            .contains("{\"worker\":\"" + id + "\",\"host\":\"" + host + "\",\"file\":\"stdout\",\"line\":\"printed to stdout\"}");

        // before: "no entry /worker/R…, and none of the hosts (…) runs it, so only the worker itself can end its process"
        CliRun.Result kill = run("kill", id);
        assertThat(kill.code()).isEqualTo(1);
        assertThat(kill.err().strip()).isEqualTo("circuit kill: worker " + id + " has already ended (exit status 0, on host "
            + host + "; 'circuit log " + id + "' shows the end of its stderr)");

        CliRun.Result live = run("log", "--stderr", "/app/echo");
        assertThat(live.code()).as(live.err()).isZero();

        CliRun.Result unknown = run("log", "R00000000000000ff");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("worker R00000000000000ff is not running, and no running host keeps a directory for it");
        assertThat(run("log", "-f", "--stdout", "/app/echo").err()).contains("-f follows the log; --stdout prints the end of a file once");
    }

    @Test
    @Order(7)
    void setAndGetSettingsAndLogLevels() {
        CliRun.Result set = run("set", "/app/echo", "app.greeting=bonjour", "log.app.echo=DEBUG");
        assertThat(set.code()).as(set.err()).isZero();
        assertThat(set.out()).contains("app.greeting=bonjour").contains("log.app.echo=DEBUG");
        assertThat(echo.result().greeting()).isEqualTo("bonjour");
        assertThat(echo.result().changes()).isEqualTo(1);

        CliRun.Result get = run("get", "--json", "/app/echo");
        assertThat(get.out()).contains("\"app.greeting\":\"bonjour\"").contains("\"log.app.echo\":\"DEBUG\"");
        assertThat(run("get", "/app/echo", "log.app.echo").out()).contains("log.app.echo=DEBUG");

        CliRun.Result bad = run("set", "/app/echo", "app.greeting= ");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("must not be blank");
        assertThat(echo.result().greeting()).isEqualTo("bonjour");

        // every refusal is reported, one line each (before: only the first), and the others still apply
        CliRun.Result mixed = run("set", "/app/echo", "app.nope=1", "app.greeting=salut", "log.app.echo=LOUD");
        assertThat(mixed.code()).isEqualTo(1);
        assertThat(mixed.out()).contains("app.greeting=salut");
        assertThat(mixed.err().lines().toList()).hasSize(2);
        assertThat(mixed.err()).contains("circuit set: " + echo.worker().id() + ": app.nope=1: no setting 'app.nope'")
            .contains("circuit set: " + echo.worker().id() + ": log.app.echo=LOUD: 'LOUD' is not a log level");
        assertThat(echo.result().greeting()).isEqualTo("salut");
        CliRun.Result unknown = run("get", "/app/echo", "app.nope");
        assertThat(unknown.err()).contains("no setting 'app.nope'").contains("app.greeting");
    }

    @Test
    @Order(8)
    void drainThenKill() {
        CliRun.Result drain = run("drain", "--timeout", "5", "/app/caller");
        assertThat(drain.code()).as(drain.err()).isZero();
        assertThat(drain.out()).contains("withdrew /app/caller");
        assertThat(run("ls", "/app/...").out()).doesNotContain("/app/caller/");

        long pid = caller.worker().id() == null ? 0 : pidOf(caller.worker().id().toString());
        CliRun.Result kill = run("kill", "/worker/" + caller.worker().id());
        assertThat(kill.code()).as(kill.err()).isZero();
        // the host daemon it ran on, as "host" means in every verb (before: the machine's name)
        // and once its process has ended: a second kill at once finds it ended (before, its host SIGKILLed the exiting JVM)
        assertThat(kill.out()).contains("killed " + caller.worker().id() + " (" + circuit.hosts().getFirst() + ", pid " + pid
            + ", exit status 0)");
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("its process has ended").isFalse();
        CliRun.Result again = run("kill", caller.worker().id().toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("has already ended (exit status 0, on host " + circuit.hosts().getFirst());
        assertThat(run("ls", "/worker").out()).doesNotContain(caller.worker().id().toString());
    }

    @Test
    @Order(9)
    void killAndDrainLeaveHostDaemonsInService() {
        // a host daemon is a runtime filed under /worker too; "kill /worker/..." used to take it down midway,
        // and "drain" stopped its host service: no spawn, stop or deploy reached that host any more
        String name = circuit.hosts().getFirst();
        io.jcircuit.WorkerId daemon = circuit.host(name).runtime().id();
        CliRun.Result kill = run("kill", "--force", "/worker/" + daemon);
        assertThat(kill.code()).isEqualTo(1);
        assertThat(kill.err()).contains(daemon + " is the host daemon " + name + ", left running; 'circuit stop " + name + "'");
        CliRun.Result drain = run("drain", "--timeout", "1", "/worker/" + daemon);
        assertThat(drain.code()).isEqualTo(1);
        assertThat(drain.err()).contains(daemon + " is the host daemon " + name + ", left in service; 'circuit stop " + name + "'");
        assertThat(run("hosts").out()).contains(name);
        try (var client = circuit.newClient()) {
            assertThat(client.spawn(name, java.util.List.of(), () -> 6 * 7).result()).as("the host still spawns").isEqualTo(42);
        }
    }

    private static long pidOf(String worker) {
        CliRun.Result r = run("ls", "-l", "/worker/" + worker);
        String s = r.out();
        int at = s.indexOf("pid ");
        return Long.parseLong(s.substring(at + 4).trim().split("\\s+")[0]);
    }

    /**
     * {@code flow} and {@code log -f} with a worker that does not answer (stopped): it is named and the
     * others are still served, and the exit status is 1. (A probe found flow exiting 0, and log -f
     * following nobody.)
     */
    @Test
    @Order(9)
    void flowAndLogFollowNameAWorkerThatDoesNotAnswerAndServeTheOthers() throws Throwable {
        Spawned<Handle> mute = client.spawn(circuit.hosts().getFirst(), List.of("/app/mute"),
            () -> Circuit.current().ref(Handle.class, new Worker("mute")));
        String silent = mute.worker().id().toString();
        long pid = pidOf(silent);
        try {
            // each while it is stopped, each waiting 1 s for it (--timeout): past its ZooKeeper session's 4 s it
            // would leave /app, and be selected no more
            stopped(pid, () -> {
                CliRun.Result follow = run("log", "-f", "--for", "2", "--timeout", "1", "-n", "200", "/app/...");
                assertThat(follow.out()).as(follow.err()).contains("marker-echo");
                assertThat(follow.err()).contains("circuit log: " + silent + ": no answer in 1 s: ");
                assertThat(follow.code()).isEqualTo(1);
            });
            await().atMost(Duration.ofSeconds(60)).until(() -> run("ls", "/app/...").out().contains(silent));
            stopped(pid, () -> {
                CliRun.Result flow = run("flow", "--json", "--interval", "0.5", "--timeout", "1", "/app/...");
                assertThat(flow.out()).startsWith("{\"intervalMillis\":")
                    .contains("\"unreachable\":[{\"worker\":\"" + silent + "\",\"error\":\"no answer in 1 s: ");
                assertThat(flow.code()).as(flow.out()).isEqualTo(1);
            });
            await().atMost(Duration.ofSeconds(60)).until(() -> run("ls", "/app/...").out().contains(silent));
            stopped(pid, () -> {
                // in peek's JSON too, as in flow's (a probe found it named on stderr only)
                CliRun.Result peek = run("peek", "--json", "--timeout", "1", "/app/...");
                assertThat(peek.out()).startsWith("{\"workers\":[").contains("\"unreachable\":[{\"worker\":\"" + silent);
                assertThat(peek.err()).contains("circuit peek: " + silent + ": no answer in 1 s: ");
                assertThat(peek.code()).isEqualTo(1);
            });
        } finally {
            // stopped past its session, it may be filing itself again: its host kills it all the same (it
            // was taken for gone before)
            mute.worker().kill();
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
            await().atMost(Duration.ofSeconds(60)).until(() -> !run("ls", "/app/...").out().contains(silent));
        }
    }

    /** Runs {@code check} while process {@code pid} is stopped. */
    private static void stopped(long pid, org.assertj.core.api.ThrowableAssert.ThrowingCallable check) throws Throwable {
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero();
        try {
            check.call();
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
        }
    }

    /** {@code heap --dump} leaves a {@code .part} file it did not write alone (a probe found it deleted). */
    @Test
    @Order(9)
    void heapDumpLeavesAPartFileItDidNotWriteAlone(@TempDir Path dir) throws Exception {
        Path dump = dir.resolve("echo.hprof");
        Path part = dir.resolve("echo.hprof.part");
        Files.writeString(part, "someone else's download");
        CliRun.Result r = run("heap", "--dump", dump.toString(), "/app/echo");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains(part + " exists");
        assertThat(part).hasContent("someone else's download");
        assertThat(dump).doesNotExist();
    }

    @Test
    @Order(10)
    void killFallsBackToTheHostWhenTheWorkerDoesNotAnswer() throws Throwable {
        long pid = pidOf(echo.worker().id().toString());
        stopped(pid, () -> {
            CliRun.Result kill = run("kill", "--timeout", "1", "/app/echo");
            assertThat(kill.code()).as(kill.err()).isZero();
            assertThat(kill.err()).contains("does not answer").contains("asking its host to kill it");
            assertThat(kill.out()).contains("killed " + echo.worker().id());
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        });
        // its host removes its entries once it has seen the process end
        String echoId = echo.worker().id().toString();
        await().atMost(Duration.ofSeconds(30)).until(() -> !run("ls", "/app/...").out().contains(echoId));
        CliRun.Result none = run("kill", "--force", "/app/...");
        assertThat(none.code()).as(none.out() + none.err()).isNotZero();
        assertThat(none.err()).contains("no worker is filed at or below /app");
    }

    @Test
    @Order(11)
    void killReachesAHungWorkerThatLeftTheNamespace() throws Exception {
        Spawned<Handle> hung = client.spawn(circuit.hosts().getFirst(), List.of("/app/hung"),
            () -> Circuit.current().ref(Handle.class, new Worker("hung")));
        String id = hung.worker().id().toString();
        long pid = pidOf(id);
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero();
        try (org.apache.curator.framework.CuratorFramework raw = org.apache.curator.framework.CuratorFrameworkFactory
                 .newClient(circuit.zookeeper(), new org.apache.curator.retry.RetryOneTime(100))) {
            raw.start();
            // what its ZooKeeper session's expiry does while it hangs: its entries go, its process stays
            raw.delete().forPath("/jcircuit/anchors/worker/" + id);
            assertThat(run("ls", "/worker").out()).doesNotContain(id);

            // its host runs it: log says so, and shows its stderr from there (before: "has ended (no exit status recorded)")
            CliRun.Result log = run("log", id);
            assertThat(log.code()).as(log.err()).isZero();
            assertThat(log.out()).contains("worker " + id + " runs on host " + circuit.hosts().getFirst() + " (pid " + pid
                + ") but has left /worker").doesNotContain("has ended");

            // without --force too: a worker without its entry cannot be asked (before: "no entry /worker/...")
            CliRun.Result kill = run("kill", id);
            assertThat(kill.code()).as(kill.err()).isZero();
            assertThat(kill.out()).contains("killed " + id + " (no longer filed under /worker; its host ended its process)");
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
        }
        CliRun.Result unknown = run("kill", "--force", "R00000000000000ff");
        assertThat(unknown.code()).isNotZero();
        assertThat(unknown.err()).contains("no entry /worker/R00000000000000ff, and none of the hosts");
    }

    @Test
    @Order(9)
    void completionScript() {
        CliRun.Result r = run("generate-completion");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("complete").contains("profile").contains("flow");
    }
}
