package io.jcircuit.cli;

import io.jcircuit.Circuit;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.host.ClasspathJars;
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

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code circuit deploy} against two real hosts, and workers spawned on a deployment: the jars are
 * compiled here, from a class that only they hold ({@code deployed.Greeter}), so a worker that answers
 * with its greeting runs the deployment's code.
 */
@Tag("slow")
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeployCommandTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(2);

    static Path jars;
    static Path v1;
    static Path v2;
    static Map<String, String> env;
    static CircuitRuntime client;

    @BeforeAll
    static void build() throws IOException {
        jars = Files.createTempDirectory("deploy-test-");
        v1 = appJar(jars.resolve("v1"), "app-1.0.jar", "1.0", "hello from v1");
        v2 = appJar(jars.resolve("v2"), "app-2.0.jar", "2.0", "hello from v2");
        env = Map.of("CIRCUIT_ZOOKEEPER", circuit.zookeeper());
        client = circuit.newClient();
    }

    @AfterAll
    static void close() {
        if (client != null) {
            client.close();
        }
        io.jcircuit.host.Dirs.deleteTree(jars);
    }

    @Test
    @Order(1)
    void shouldPushAJarToEveryHostAndRecordItAsVersionOne() throws IOException {
        long t0 = System.nanoTime();
        CliRun.Result r = CliRun.run(env, "deploy", v1.toString());

        System.out.println("deploy: pushed to 2 hosts and recorded in " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + r.out());
        assertThat(r.code()).as(r.err()).isZero();
        String sha = ClasspathJars.sha256(v1);
        assertThat(r.out()).contains("deployed app-1.0.jar as app:1").contains("SHA-256 " + sha.substring(0, 12))
            .contains("version 1.0").contains("to 2 host(s)");
        assertThat(r.err()).contains("deploy app-1.0.jar [").contains("100%");
        for (String host : circuit.hosts()) {
            assertThat(circuit.stateDir().resolve(host).resolve("jars").resolve(sha + ".jar")).hasSameBinaryContentAs(v1);
            // never evicted: a later spawn of the deployment may have no spawner that holds the jar
            assertThat(circuit.stateDir().resolve(host).resolve("jars").resolve(sha + ".deployed")).exists();
        }
        assertThat(CliRun.run(env, "dls", "-l", "/deployments/...").out()).contains("/deployments/app/1").contains("bytes");
    }

    @Test
    @Order(2)
    void shouldKeepTheVersionWhenTheSameJarIsDeployedAgain() {
        CliRun.Result r = CliRun.run(env, "deploy", "--json", v1.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"label\":\"app:1\"").contains("\"created\":false").contains("\"pushedTo\":[]");
        assertThat(r.err()).isEmpty(); // no progress bar under --json
        assertThat(CliRun.run(env, "deploy", v1.toString()).out())
            .contains("app-1.0.jar is already deployment app:1").contains("no new version")
            .contains("2 of them had it already");
    }

    @Test
    @Order(3)
    void shouldRecordAChangedJarAsTheNextVersion() throws IOException {
        CliRun.Result r = CliRun.run(env, "deploy", v2.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("deployed app-2.0.jar as app:2");
        CliRun.Result list = CliRun.run(env, "deploy", "--list");
        assertThat(list.out()).contains("app:1").contains("app:2").contains("2.0")
            .contains(ClasspathJars.sha256(v2).substring(0, 12));
        assertThat(CliRun.run(env, "deploy", "--list", "--json", "app").out())
            .contains("\"label\":\"app:1\"").contains("\"label\":\"app:2\"").contains("\"implementationVersion\":\"2.0\"");
        CliRun.Result nope = CliRun.run(env, "deploy", "--list", "nope");
        assertThat(nope.err()).contains("circuit deploy: no deployment named 'nope'");
        assertThat(nope.code()).as("a script can tell a missing name from an empty list").isEqualTo(1);
        // a removal of an unknown name is not told how to deploy (a probe's was)
        CliRun.Result removeNope = CliRun.run(env, "deploy", "--remove", "nope:3");
        assertThat(removeNope.err()).contains("no deployment named 'nope' to remove").doesNotContain("deploy a jar");
        // a name taken from the file name says so
        Path hidden = Files.copy(v2, v2.resolveSibling(".hidden.jar"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CliRun.Result badName = CliRun.run(env, "deploy", hidden.toString());
        assertThat(badName.err()).contains("bad deployment name '.hidden'").contains("taken from the jar's file name; give one with --name");
    }

    @Test
    @Order(4)
    void shouldRunTheDeployedCodeInASpawnedWorkerAndShowItsVersion() throws Exception {
        String host = circuit.hosts().getLast();
        long t0 = System.nanoTime();
        Spawned<Supplier<String>> latest = client.spawn(host, List.of("/deployed/latest"), DeployCommandTest::greeter,
            SpawnOptions.defaults().withDeployment("app"));
        long spawnMs = (System.nanoTime() - t0) / 1_000_000;
        Spawned<Supplier<String>> plain = client.spawn(host, List.of("/deployed/plain"),
            () -> Circuit.current().ref(Supplier.class, () -> "plain"));
        Spawned<Supplier<String>> first = client.spawn(host, List.of("/deployed/first"), DeployCommandTest::greeter,
            SpawnOptions.defaults().withDeployment("app:1"));

        assertThat(latest.result().get()).isEqualTo("hello from v2");
        assertThat(first.result().get()).isEqualTo("hello from v1"); // two versions side by side
        CliRun.Result ls = CliRun.run(env, "ls", "-l", "/deployed/...");
        assertThat(ls.out()).containsPattern("/deployed/latest/R\\S+ .* app:2")
            .containsPattern("/deployed/first/R\\S+ .* app:1")
            .containsPattern("/deployed/plain/R\\S+ .* spawner-classpath");
        System.out.println("deploy: a cold spawn on deployment app:2 took " + spawnMs + " ms\n" + ls.out());
        assertThat(plain.result().get()).isEqualTo("plain");
        assertThat(CliRun.run(env, "ls", "--json", "/worker").out())
            .contains("\"code\":\"app:2\"").contains("\"codeHash\":\"" + ClasspathJars.sha256(v2).substring(0, 12) + "\"");
        assertThat(CliRun.run(env, "ls", "-l", "/host/" + host).out()).contains("app:1").contains("app:2");
    }

    @Test
    @Order(5)
    void shouldRefuseAnUnknownDeploymentOrVersion() {
        assertThatThrownBy(() -> client.spawn(circuit.hosts().getFirst(), List.of(), () -> 1,
            SpawnOptions.defaults().withDeployment("nope")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no deployment named 'nope'");
        assertThatThrownBy(() -> client.spawn(circuit.hosts().getFirst(), List.of(), () -> 1,
            SpawnOptions.defaults().withDeployment("app:9")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has no version 9")
            .hasMessageContaining("[app:1, app:2]");
        assertThatThrownBy(() -> SpawnOptions.defaults().withDeployment("app:v2"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NAME:VERSION");
        CliRun.Result r = CliRun.run(env, "deploy", jars.resolve("missing.jar").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no such jar");
    }

    /** Runs in the worker: a reference to the greeting of the deployment's own class. */
    @Test
    @Order(6)
    void shouldDeployASwapsJarAsDeployDoesAndRefuseABadNameBeforePushingIt() throws Exception {
        // swap --jar deploys through the same call: the record carries the manifest's version
        Path v3 = appJar(jars.resolve("v3"), "app-3.0.jar", "3.0-swap", "hello from v3");
        try (io.jcircuit.anchor.Namespace ns = io.jcircuit.anchor.Namespace.connect(
                io.jcircuit.anchor.NamespaceConfig.of(circuit.zookeeper()));
             java.io.PrintWriter err = new java.io.PrintWriter(java.io.Writer.nullWriter())) {
            DeployCommand.deploy(ns, new io.jcircuit.runtime.host.Deployments(ns, null), client, v3, "swapped", err, true);
        }
        assertThat(CliRun.run(env, "deploy", "--list", "--json", "swapped").out())
            .contains("\"label\":\"swapped:1\"").contains("\"implementationVersion\":\"3.0-swap\"");

        // a file name that makes no deployment name: refused before any host is asked for the jar (it was
        // pushed to every host's cache, where deployed jars stay, and then not recorded)
        Path badName = appJar(jars.resolve("v4"), "my box.jar", "4.0", "hello from v4");
        var anchor = client.anchors().file("/swap-bad-name"); // a worker for the swap to select
        try {
            CliRun.Result r = CliRun.run(env, "swap", "/swap-bad-name", "--jar", badName.toString(), "--linger", "0");
            assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
            assertThat(r.err()).contains("bad deployment name 'my box'");
        } finally {
            anchor.close();
        }
        String sha = ClasspathJars.sha256(badName);
        for (String host : circuit.hosts()) {
            assertThat(circuit.stateDir().resolve(host).resolve("jars").resolve(sha + ".jar")).doesNotExist();
        }
        CliRun.Result named = CliRun.run(env, "swap", "/nothing/here", "--jar", badName.toString(), "--name", "my-box");
        assertThat(named.err()).as("with --name it gets as far as selecting workers").doesNotContain("bad deployment name");
        assertThat(CliRun.run(env, "swap", "/nothing/here", "--deployment", "app", "--name", "x").err())
            .contains("--name goes with --jar");
    }

    @Test
    @Order(7)
    void shouldRemoveAVersionSoThatNothingCanNameItAndHostsLetItsJarGo() throws Exception {
        Path a = appJar(jars.resolve("v5"), "old-1.0.jar", "1.0", "hello old");
        String sha = ClasspathJars.sha256(a);
        assertThat(CliRun.run(env, "deploy", a.toString()).out()).contains("as old:1");
        Spawned<Supplier<String>> runsIt = client.spawn(circuit.hosts().getFirst(), List.of("/deployed/old"),
            DeployCommandTest::greeter, SpawnOptions.defaults().withDeployment("old:1"));

        CliRun.Result noVersion = CliRun.run(env, "deploy", "--remove", "old");
        assertThat(noVersion.code()).isEqualTo(1);
        assertThat(noVersion.err()).contains("give NAME:VERSION");
        CliRun.Result removed = CliRun.run(env, "deploy", "--remove", "old:1");
        assertThat(removed.code()).as(removed.err()).isZero();
        assertThat(removed.out()).contains("removed deployment old:1")
            .contains("1 worker(s) still run it, and run on until they end: " + runsIt.worker().id());
        assertThat(runsIt.result().get()).as("a worker that runs it runs on").isEqualTo("hello old");
        assertThat(CliRun.run(env, "deploy", "--remove", "old:1").out()).contains("deployment old:1 was removed already, at ");
        CliRun.Result unknown = CliRun.run(env, "deploy", "--remove", "old:7");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("has no version 7");

        assertThat(CliRun.run(env, "deploy", "--list", "old").out()).contains("no deployments (1 removed)");
        assertThat(CliRun.run(env, "deploy", "--list", "--json", "old").out())
            .contains("\"deployments\":[]").containsPattern("\"removed\":\\[\\{[^]]*\"label\":\"old:1\"[^]]*\"removed\":\"20");
        assertThatThrownBy(() -> client.spawn(circuit.hosts().getFirst(), List.of(), () -> 1,
            SpawnOptions.defaults().withDeployment("old")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("every version of deployment 'old' was removed (old:1)");
        assertThatThrownBy(() -> client.spawn(circuit.hosts().getFirst(), List.of(), () -> 1,
            SpawnOptions.defaults().withDeployment("old:1")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deployment old:1 was removed at ");
        assertThat(CliRun.run(env, "swap", "/deployed/old", "--deployment", "old:1").err())
            .contains("--deployment old:1: deployment old:1 was removed at ");

        // the hosts let the jar go at their next pass over their caches, which a fetch (this deploy) starts
        Path b = appJar(jars.resolve("v6"), "other-1.0.jar", "1.0", "hello other");
        assertThat(CliRun.run(env, "deploy", b.toString()).out()).contains("as other:1");
        for (String host : circuit.hosts()) {
            Path jarsDir = circuit.stateDir().resolve(host).resolve("jars");
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(jarsDir.resolve(sha + ".deployed")).doesNotExist());
            assertThat(jarsDir.resolve(ClasspathJars.sha256(b) + ".deployed")).exists();
        }

        // the same jar deployed again is a new version: a removed number is never given again
        assertThat(CliRun.run(env, "deploy", a.toString()).out()).contains("deployed old-1.0.jar as old:2");
        assertThat(client.spawn(circuit.hosts().getLast(), List.of(), DeployCommandTest::greeter,
            SpawnOptions.defaults().withDeployment("old")).result().get()).isEqualTo("hello old");
        for (String host : circuit.hosts()) {
            assertThat(circuit.stateDir().resolve(host).resolve("jars").resolve(sha + ".deployed")).exists();
        }
    }

    static Supplier<String> greeter() throws Exception {
        String greeting = (String) Class.forName("deployed.Greeter").getMethod("greeting").invoke(null);
        return Circuit.current().ref(Supplier.class, () -> greeting);
    }

    /** Compiles {@code deployed.Greeter} returning {@code greeting} into the jar {@code dir/name}. */
    static Path appJar(Path dir, String name, String version, String greeting) throws IOException {
        Path src = dir.resolve("src/deployed/Greeter.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "package deployed; public final class Greeter { public static String greeting() { return \""
            + greeting + "\"; } }");
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", classes.toString(), src.toString());
        assertThat(rc).as("javac of " + src).isZero();
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, version);
        Path jar = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new JarEntry("deployed/Greeter.class"));
            j.write(Files.readAllBytes(classes.resolve("deployed/Greeter.class")));
            j.closeEntry();
        }
        return jar;
    }
}
