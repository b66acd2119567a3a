package io.jcircuit.link;

import io.jcircuit.WorkerId;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.link.tls.ClusterTls;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A flood of connections that never say anything, on real loopback sockets: the runtime holds at most
 * {@link LinkConfig#maxPendingConnections} of them, closing the oldest, and genuine peers keep linking.
 */
class PendingConnectionsTest {

    private static final ClusterKey KEY = ClusterKey.generate();
    private static final int BOUND = 8;
    private static final int FLOOD = 20;

    private static LinkConfig.Builder config(WorkerId id, boolean tls) {
        LinkConfig.Builder b = LinkConfig.builder();
        if (tls) {
            b.tls(ClusterTls.of(KEY.issue(id.toString())));
        }
        return b;
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void shouldCloseTheOldestSilentConnectionsPastTheBoundAndKeepLinking(boolean tls) throws Exception {
        WorkerId idA = WorkerId.random();
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder ra = new LinkTransportTest.Recorder();
        LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        List<Socket> flood = new ArrayList<>();
        // b waits a minute for a handshake: any silent connection it closes within the test, it closed for the bound
        try (LinkTransport b = LinkTransport.start(config(idB, tls).maxPendingConnections(BOUND).connectTimeoutMs(60_000).build(), idB, rb);
             LinkTransport a = LinkTransport.start(config(idA, tls).build(), idA, ra)) {
            try {
                for (int i = 0; i < FLOOD; i++) { // one after the other: b accepts them in this order
                    Socket s = new Socket();
                    flood.add(s);
                    s.connect(new InetSocketAddress(b.address().host(), b.address().port()));
                    s.setSoTimeout(10_000);
                }
                for (int i = 0; i < FLOOD - BOUND; i++) {
                    assertThat(flood.get(i).getInputStream().read())
                        .as("silent connection %d of %d, among the oldest past the bound of %d, was closed by the runtime", i, FLOOD, BOUND)
                        .isEqualTo(-1);
                }
                assertThat(b.pendingConnections()).isEqualTo(BOUND);

                // the flood is held open: a genuine peer still links, and frames go both ways
                Link ab = a.dial(b.address(), idB).get(10, TimeUnit.SECONDS);
                Link ba = rb.up.poll(10, TimeUnit.SECONDS);
                assertThat(ba).isNotNull();
                ab.send(LinkTransportTest.text(ab, "through the flood"));
                assertThat(rb.data.poll(10, TimeUnit.SECONDS)).isEqualTo("through the flood");
                ba.send(LinkTransportTest.text(ba, "back"));
                assertThat(ra.data.poll(10, TimeUnit.SECONDS)).isEqualTo("back");

                // its connection made room by closing the oldest one left, and stopped counting once it had linked
                assertThat(flood.get(FLOOD - BOUND).getInputStream().read()).as("the oldest silent connection left").isEqualTo(-1);
                await().atMost(Duration.ofSeconds(10)).until(() -> b.pendingConnections() == BOUND - 1);
                assertThat(ab.isConnected()).isTrue();
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> b.pendingConnections() == 0);
        }
    }
}
