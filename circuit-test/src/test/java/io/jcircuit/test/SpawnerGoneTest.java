package io.jcircuit.test;

import io.jcircuit.Entry;
import io.jcircuit.runtime.CircuitRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.awaitility.Awaitility.await;

/**
 * A worker that is not daemonized ends with its spawner. Usually it sees the spawner leave
 * {@code /worker}; here ZooKeeper is gone first, so it must see the end of its session with the spawner.
 */
@Tag("slow")
@Timeout(120)
class SpawnerGoneTest {

    /** Its own circuit: the test stops host-1, and ZooKeeper with it. */
    @RegisterExtension
    final LocalCircuit circuit = LocalCircuit.withHosts(2);

    @Test
    void aWorkerWhoseZooKeeperIsGoneStillEndsWithItsSpawner() {
        CircuitRuntime spawner = circuit.newClient();
        // a function that never ends: only its spawner's end can end the worker
        Thread.ofVirtual().start(() -> {
            try {
                spawner.spawn("host-2", List.of(), () -> {
                    Thread.sleep(Long.MAX_VALUE);
                    return 0;
                });
            } catch (RuntimeException expected) {
                // the spawner closes while the function runs
            }
        });
        Entry filed = await().atMost(Duration.ofSeconds(60)).until(() -> spawner.anchors().list("/host/host-2").entries()
            .stream().filter(e -> spawner.id().toString().equals(e.metadata().get("spawner"))).findFirst(),
            Optional::isPresent).orElseThrow();
        ProcessHandle worker = ProcessHandle.of(filed.pid()).orElseThrow();

        circuit.host("host-1").close(); // the circuit's ZooKeeper runs in host-1 and stops with it
        spawner.close();

        await().atMost(Duration.ofSeconds(30)).until(() -> !worker.isAlive());
    }
}
