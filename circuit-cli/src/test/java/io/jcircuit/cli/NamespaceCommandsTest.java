package io.jcircuit.cli;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code ls} and {@code dls} against a runtime with an embedded ZooKeeper, found through the state directory. */
class NamespaceCommandsTest {

    @TempDir
    static Path state;
    private static CircuitRuntime rt;

    @BeforeAll
    static void start() {
        rt = CircuitRuntime.start(RuntimeConfig.builder().embeddedZooKeeper(state).build());
        rt.anchors().file("/cli/svc", Map.of("role", "echo"));
        rt.durable().putBytes("/conf/raw", new byte[] {1, 2, 3});
        rt.durable().put("/conf/deep/obj", "a string value");
    }

    @AfterAll
    static void stop() {
        rt.close();
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(Map<String, String> env, String... args) {
        CommandLine cl = CircuitCommand.commandLine();
        for (String name : new String[] {"ls", "dls"}) {
            Object cmd = cl.getSubcommands().get(name).getCommand();
            NamespaceOptions where = cmd instanceof LsCommand l ? l.where : ((DlsCommand) cmd).where;
            where.env = env;
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static Run run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void lsShowsDirectoriesAndEntries() {
        Run r = run("ls", "--dir", state.toString(), "/");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines()).contains("/cli/", "/worker/");

        Run svc = run("ls", "--dir", state.toString(), "/cli/svc");
        assertThat(svc.out().strip()).isEqualTo("/cli/svc/" + rt.id());
    }

    @Test
    void lsLongFormShowsAddressHostAndStart() {
        Run r = run("ls", "-l", "--dir", state.toString(), "/worker");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("/worker/" + rt.id()).contains(rt.address().toString())
            .contains("pid " + ProcessHandle.current().pid());
    }

    @Test
    void lsRecursesWithDots() {
        Run r = run("ls", "--dir", state.toString(), "/...");
        assertThat(r.out().lines()).contains("/cli/", "/cli/svc/", "/cli/svc/" + rt.id(), "/worker/" + rt.id());
        Run one = run("ls", "--dir", state.toString(), "/worker/" + rt.id());
        assertThat(one.out().strip()).isEqualTo("/worker/" + rt.id());
    }

    @Test
    void lsJsonIsOneObject() {
        Run r = run("ls", "--json", "--dir", state.toString(), "/cli/svc");
        assertThat(r.out().strip()).startsWith("{\"path\":\"/cli/svc\",\"revision\":")
            .contains("\"worker\":\"" + rt.id() + "\"")
            .contains("\"metadata\":{\"role\":\"echo\"}")
            .endsWith("}");
    }

    @Test
    void dlsListsTheDurableStore() {
        Run r = run("dls", "-l", "--dir", state.toString(), "/conf");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("/conf/deep/").containsPattern("/conf/raw\\s+3 B\\s+bytes");
        Run all = run("dls", "--json", "--dir", state.toString(), "/conf/...");
        assertThat(all.out()).contains("\"path\":\"/conf/deep/obj\"").contains("\"kind\":\"object\"");
        // a value listed alone is the listing's path, with its own revision (a probe saw its parent's "/" and revision)
        Run one = run("dls", "--json", "--dir", state.toString(), "/conf/raw");
        assertThat(one.code()).as(one.err()).isZero();
        assertThat(one.out().strip()).startsWith("{\"path\":\"/conf/raw\",\"revision\":")
            .contains("\"values\":[{\"path\":\"/conf/raw\"");
        String listingRevision = one.out().replaceAll("(?s)^\\{\"path\":\"/conf/raw\",\"revision\":(-?\\d+),.*", "$1");
        assertThat(one.out()).contains("\"kind\":\"bytes\",\"revision\":" + listingRevision + "}");
    }

    @Test
    void theConnectStringMayComeFromTheEnvironmentOrTheFlag(@TempDir Path empty) throws Exception {
        String connect = Files.readString(state.resolve("zookeeper/connect")).strip();
        assertThat(run(Map.of("CIRCUIT_ZOOKEEPER", connect), "ls", "--dir", empty.toString(), "/").out()).contains("/worker/");
        assertThat(run("ls", "--zookeeper", connect, "--dir", empty.toString(), "/").out()).contains("/worker/");
    }

    @Test
    void withNoZooKeeperTheErrorSaysWhatWasTried(@TempDir Path empty) {
        Run r = run("ls", "--dir", empty.toString(), "/");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no ZooKeeper to ask").contains("--zookeeper (not given)")
            .contains("$CIRCUIT_ZOOKEEPER (not set)").contains(empty.resolve("zookeeper/connect").toString());
    }

    @Test
    void anUnreachableZooKeeperIsNamedWithItsSource() {
        Run r = run("ls", "--zookeeper", "127.0.0.1:1", "/");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("127.0.0.1:1").contains("from --zookeeper");
    }

    @Test
    void aBadPathIsRefusedClearly() {
        Run r = run("ls", "--dir", state.toString(), "no-slash");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("bad anchor path 'no-slash'");
    }

    @Test
    void lsOfADirectoryWhereNothingIsFiledSaysSoAndFails() {
        // before: exit 0 and nothing printed, as for an empty directory, so a typo looked like an empty circuit
        for (String[] args : new String[][] {{"/nope"}, {"/nope/..."}, {"-l", "/nope"}, {"--json", "/cli/nope"}}) {
            String dir = args[args.length - 1].replace("/...", "");
            String[] line = java.util.stream.Stream.concat(java.util.stream.Stream.of("ls", "--dir", state.toString()),
                java.util.Arrays.stream(args)).toArray(String[]::new);
            Run r = run(line);
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(r.out()).isEmpty();
            assertThat(r.err().strip()).isEqualTo("circuit ls: no such anchor directory " + dir + ": nothing is filed in it or below it");
        }
        // the root is always there, and a directory that holds entries only below lists them
        assertThat(run("ls", "--dir", state.toString(), "/").code()).isZero();
        Run hosts = run("ls", "--dir", state.toString(), "/host");
        assertThat(hosts.code()).as("no host runs: an answer, not a mistyped path").isZero();
        assertThat(hosts.out()).isEmpty();
        assertThat(run("ls", "--dir", state.toString(), "/cli").out().strip()).isEqualTo("/cli/svc/");
    }

    @Test
    void dlsOfADirectoryWhereNothingIsStoredSaysSoAndFails() {
        for (String path : new String[] {"/nope", "/nope/...", "/conf/nope"}) {
            Run r = run("dls", "--dir", state.toString(), path);
            assertThat(r.code()).as(path).isEqualTo(1);
            assertThat(r.out()).isEmpty();
            assertThat(r.err().strip()).isEqualTo("circuit dls: no such durable directory " + path.replace("/...", "")
                + ": no value is stored in it or below it");
        }
        // a value has nothing below it: it is listed alone (before: nothing printed, as for a missing directory)
        Run value = run("dls", "-l", "--dir", state.toString(), "/conf/raw");
        assertThat(value.code()).as(value.err()).isZero();
        assertThat(value.out().strip()).matches("/conf/raw\\s+3 B\\s+bytes\\s+rev \\d+");
        assertThat(run("dls", "--dir", state.toString(), "/").code()).isZero();
    }

    @Test
    void lsNamesAnEntryByItsIdAsEveryVerbDoes() {
        String id = rt.id().toString();
        String upper = "R" + id.substring(1).toUpperCase(java.util.Locale.ROOT);
        // before: "no entry /cli/svc/R4B61...", though peek took an id in capitals
        Run capitals = run("ls", "--dir", state.toString(), "/cli/svc/" + upper);
        assertThat(capitals.code()).as(capitals.err()).isZero();
        assertThat(capitals.out().strip()).isEqualTo("/cli/svc/" + id);
        // before: "circuit ls: Range [0, -1) out of bounds for length 17"
        Run bare = run("ls", "--dir", state.toString(), id);
        assertThat(bare.code()).as(bare.err()).isZero();
        assertThat(bare.out().strip()).isEqualTo("/worker/" + id);
        // nothing is below an entry: at or below it is the entry (before: "bad anchor path ... directories must not look like them")
        Run below = run("ls", "--dir", state.toString(), "/cli/svc/" + id + "/...");
        assertThat(below.code()).as(below.err()).isZero();
        assertThat(below.out().strip()).isEqualTo("/cli/svc/" + id);

        Run through = run("ls", "--dir", state.toString(), "/cli/svc/" + id + "/more");
        assertThat(through.code()).isEqualTo(1);
        assertThat(through.err().strip()).isEqualTo("circuit ls: no such anchor directory /cli/svc/" + id + "/more: " + id
            + " is a worker id, which names an entry, and nothing is filed below an entry (no directory is named like a worker id)");
        Run gone = run("ls", "--dir", state.toString(), "/cli/svc/R0000000000000001");
        assertThat(gone.code()).isEqualTo(1);
        assertThat(gone.err().strip()).isEqualTo("circuit ls: no entry /cli/svc/R0000000000000001");
    }
}
