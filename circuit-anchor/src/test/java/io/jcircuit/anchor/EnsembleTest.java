package io.jcircuit.anchor;

import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A three-server ensemble: losing one server changes nothing for users. */
@Tag("slow")
class EnsembleTest {

    @Test
    void losingOneServerOfThreeChangesNothing() throws Exception {
        try (TestingCluster cluster = new TestingCluster(3)) {
            cluster.start();
            try (Namespace ns = Namespace.connect(NamespaceConfig.of(cluster.getConnectString()))) {
                WorkerId me = WorkerId.random();
                NamespaceAnchors anchors = new NamespaceAnchors(ns, Fixture.self(me, 5003), e -> null);
                NamespaceDurable durable = new NamespaceDurable(ns, new JavaValueCodec());
                anchors.file("/ensemble/before");
                durable.putBytes("/ensemble/v", new byte[] {1});

                // Kill the server this client talks to, the harder case: it must move to another.
                String connected = ns.client().getZookeeperClient().getCurrentConnectionString();
                InstanceSpec victim = cluster.getInstances().stream()
                    .filter(i -> connected == null || connected.contains(":" + i.getPort()))
                    .findFirst().orElse(cluster.getInstances().iterator().next());
                assertThat(cluster.killServer(victim)).isTrue();

                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                    assertThat(anchors.list("/ensemble/before").entries()).extracting(Entry::worker).containsExactly(me);
                    assertThat(durable.getBytes("/ensemble/v")).hasValueSatisfying(v -> assertThat(v).containsExactly(1));
                });
                anchors.file("/ensemble/after");
                durable.putBytes("/ensemble/w", new byte[] {2});
                assertThat(anchors.listAll("/ensemble").entries()).extracting(Entry::path)
                    .containsExactly("/ensemble/after/" + me, "/ensemble/before/" + me);
                assertThat(durable.getBytes("/ensemble/w")).isPresent();
                anchors.close();
            }
        }
    }
}
