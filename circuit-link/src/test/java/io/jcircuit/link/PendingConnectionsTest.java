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

    /**
     * A peer that has begun its handshake is not pushed out by connections that say nothing, however many
     * come while it is slow to finish (a probe's flood of 450 a second pushed out first dials on a loaded
     * machine): the silent ones make room for each other.
     */
    @org.junit.jupiter.api.Test
    void shouldKeepAConnectionThatHasSpokenThroughAFloodOfSilentOnes() throws Exception {
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        List<Socket> flood = new ArrayList<>();
        try (LinkTransport b = LinkTransport.start(config(idB, false).maxPendingConnections(BOUND).connectTimeoutMs(60_000).build(), idB, rb);
             Socket slow = new Socket()) {
            slow.connect(new InetSocketAddress(b.address().host(), b.address().port()));
            slow.setSoTimeout(10_000);
            io.netty.buffer.ByteBuf hello = FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, FrameCodec.TYPE_HELLO, 64);
            byte[] addr = "127.0.0.1:1".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            hello.writeLong(WorkerId.random().value()).writeLong(0).writeLong(42).writeLong(0).writeByte(0)
                .writeShort(addr.length).writeBytes(addr);
            io.netty.buffer.ByteBuf frame = FrameCodec.finish(hello);
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            frame.release();
            slow.getOutputStream().write(bytes, 0, 3); // its first bytes, then nothing for a while
            slow.getOutputStream().flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> b.pendingConnections() == 1 && spoke(b));
            try {
                for (int i = 0; i < FLOOD; i++) {
                    Socket s = new Socket();
                    flood.add(s);
                    s.connect(new InetSocketAddress(b.address().host(), b.address().port()));
                    s.setSoTimeout(10_000);
                }
                for (int i = 0; i < FLOOD - BOUND + 1; i++) {
                    assertThat(flood.get(i).getInputStream().read()).as("silent connection %d, pushed out", i).isEqualTo(-1);
                }
                slow.getOutputStream().write(bytes, 3, bytes.length - 3);
                slow.getOutputStream().flush();
                java.io.DataInputStream in = new java.io.DataInputStream(slow.getInputStream());
                byte[] welcome = new byte[in.readInt()];
                in.readFully(welcome);
                assertThat(welcome[FrameCodec.TYPE_OFFSET - 4]).as("the slow peer's handshake is answered").isEqualTo(FrameCodec.TYPE_WELCOME);
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
        }
    }

    /** Whether the one connection {@code b} has waiting has spoken: it has, once its bytes were read. */
    private static boolean spoke(LinkTransport b) {
        return b.pendingSpoken() == 1;
    }
}
