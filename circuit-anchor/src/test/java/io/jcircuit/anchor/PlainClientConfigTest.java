package io.jcircuit.anchor;

import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class PlainClientConfigTest {

    @Test
    void readsTheClientPropertiesOfTheProcess() {
        withProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false", () -> {
            ZKClientConfig c = PlainClientConfig.forClient();
            assertThat(c).isInstanceOf(PlainClientConfig.class);
            assertThat(c.getProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY)).isEqualTo("false");
            assertThat(c.isSaslClientEnabled()).isFalse();
            assertThat(c.getProperty(ZKClientConfig.SECURE_CLIENT)).isNull();
        });
    }

    @Test
    void aProcessThatConfiguresZooKeeperTlsGetsZooKeepersOwnConfiguration() {
        withProperty(ZKClientConfig.SECURE_CLIENT, "true", () -> {
            ZKClientConfig c = PlainClientConfig.forClient();
            assertThat(c).isNotInstanceOf(PlainClientConfig.class);
            assertThat(c.getBoolean(ZKClientConfig.SECURE_CLIENT)).isTrue();
        });
    }

    /**
     * In a JVM of its own (this one runs ZooKeeper servers, which load TLS themselves): a namespace
     * connects and files without loading the JDK's TLS stack.
     */
    @Test
    void aClientLoadsNoTls(@TempDir Path dir) throws Exception {
        try (TestingServer zk = new TestingServer(true)) {
            Path log = dir.resolve("classes.log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load:file=" + log, "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), zk.getConnectString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the child finished").isTrue();
            assertThat(p.exitValue()).as(Files.readString(dir.resolve("out"))).isZero();
            List<String> loaded = Files.readAllLines(log);
            assertThat(loaded).anyMatch(l -> l.contains(" org.apache.zookeeper.ZooKeeper "));
            assertThat(loaded).noneMatch(l -> l.contains(" sun.security.ssl."));
        }
    }

    /** Connects to the ZooKeeper at {@code args[0]}, files an entry and leaves. */
    public static final class Child {
        public static void main(String[] args) {
            try (Namespace ns = Namespace.connect(NamespaceConfig.of(args[0]))) {
                ns.warmUp("plain", 1);
            }
        }
    }

    /** Runs {@code check} with system property {@code key} set to {@code value}, then puts it back. */
    private static void withProperty(String key, String value, Runnable check) {
        String was = System.getProperty(key);
        System.setProperty(key, value);
        try {
            check.run();
        } finally {
            if (was == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, was);
            }
        }
    }
}
