package io.jcircuit.host;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.runtime.RuntimeConfig;
import io.jcircuit.runtime.host.ClasspathJars;
import io.jcircuit.runtime.host.HostService;
import io.jcircuit.runtime.host.JarRef;
import io.jcircuit.runtime.host.JarSource;
import io.jcircuit.runtime.host.SpawnSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A spawner in a JVM of its own, for {@link SpawnerGoneMidFetchTest}: joins the circuit at {@code args[0]}
 * and asks host {@code args[1]} to spawn with the jar {@code args[2]} first on the classpath. Its jar
 * source hands out that jar's first chunk, prints {@value #STALLED}, and then never answers again:
 * the host is left fetching while the test kills this JVM or closes its runtime.
 */
public final class StallingSpawnerMain {

    static final String STALLED = "STALLED";

    private StallingSpawnerMain() {
    }

    public static void main(String[] args) {
        CircuitRuntime rt = CircuitRuntime.start(RuntimeConfig.builder().zookeeper(args[0]).build());
        spawnStalling(rt, args[1], Path.of(args[2]), () -> {
            System.out.println(STALLED);
            System.out.flush();
        }, new CountDownLatch(1)); // never released: the test kills this JVM
    }

    /**
     * Asks host {@code host} to spawn on {@code rt}'s classpath with {@code jar} first, from a source
     * that stalls after the first chunk of {@code jar} (calling {@code stalled} then) until {@code release}.
     * Returns how the spawn ended: null when it started a worker, else its exception.
     */
    static RuntimeException spawnStalling(CircuitRuntime rt, String host, Path jar, Runnable stalled, CountDownLatch release) {
        ClasspathJars all = new ClasspathJars(ClasspathJars.defaultPackDir());
        List<JarRef> cp = new ArrayList<>(all.of(jar + java.io.File.pathSeparator + System.getProperty("java.class.path")));
        String stalling = cp.getFirst().sha256();
        JarSource source = rt.ref(JarSource.class, (sha256, offset, length) -> {
            if (sha256.equals(stalling) && offset > 0) {
                stalled.run();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IllegalStateException("the stalled read was let go");
            }
            return all.read(sha256, offset, length);
        });
        HostService hs = rt.anchors().worker(rt.anchors().list("/host/" + host).entries().stream()
                .filter(e -> HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY))).findFirst().orElseThrow())
            .dial(HostService.SERVICE, HostService.class);
        try {
            hs.spawn(new SpawnSpec(rt.id(), cp, source, List.of(), List.of(), 0, Map.of(), false, Map.of(), rt.address(), null));
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }
}
