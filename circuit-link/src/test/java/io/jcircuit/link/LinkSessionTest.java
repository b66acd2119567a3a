package io.jcircuit.link;

import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sessions across broken connections, on real loopback sockets: exactly-once delivery in order,
 * redial and replay from both sides, silence detection, and the end of a session whose peer is gone.
 */
class LinkSessionTest {

    private static LinkConfig.Builder fast() {
        return LinkConfig.builder().heartbeatIntervalMs(100).silenceLimitMs(400).outageLimitMs(3_000)
            .redialMinMs(5).redialMaxMs(100);
    }

    private static ByteBuf text(Link link, String s) {
        return LinkTransportTest.text(link, s);
    }

    /** Two transports with fast settings and the session a dialed to b, seen from both ends. */
    private static final class Linked implements AutoCloseable {
        final LinkTransportTest.Recorder ra = new LinkTransportTest.Recorder();
        final LinkTransportTest.Recorder rb = new LinkTransportTest.Recorder();
        final LinkTransport a;
        final LinkTransport b;
        final Link ab;
        final Link ba;

        Linked() throws Exception {
            WorkerId idB = WorkerId.random();
            a = LinkTransport.start(fast().build(), WorkerId.random(), ra);
            b = LinkTransport.start(fast().build(), idB, rb);
            ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            ba = rb.up.poll(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            a.close();
            b.close();
        }
    }

    /** Cuts the TCP connection under {@code link} with a reset, as a failing network would. */
    private static void reset(Link link) {
        LinkHandler c = link.current();
        if (c != null) {
            c.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            c.channel().close();
        }
    }

    @Test
    void shouldDeliverEveryFrameExactlyOnceInOrderWhileConnectionsKeepBreaking() throws Exception {
        int frames = 20_000;
        try (Linked l = new Linked()) {
            Link ab = l.ab;
            Link ba = l.ba;
            LinkTransportTest.Recorder ra = l.ra;
            LinkTransportTest.Recorder rb = l.rb;

            AtomicBoolean breaking = new AtomicBoolean(true);
            Thread breaker = Thread.ofVirtual().start(() -> {
                int n = 0;
                while (breaking.get()) {
                    reset(n++ % 2 == 0 ? ab : ba); // from either side: both sides redial
                    try {
                        Thread.sleep(15);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            Thread toB = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < frames; i++) {
                    ab.send(text(ab, "a" + i), i % 2 == 0);
                }
            });
            Thread toA = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < frames; i++) {
                    ba.send(text(ba, "b" + i));
                }
            });
            toB.join();
            toA.join();
            List<String> atB = new ArrayList<>();
            List<String> atA = new ArrayList<>();
            for (int i = 0; i < frames; i++) {
                atB.add(rb.data.poll(10, TimeUnit.SECONDS));
                atA.add(ra.data.poll(10, TimeUnit.SECONDS));
            }
            breaking.set(false);
            breaker.join();

            for (int i = 0; i < frames; i++) {
                assertThat(atB.get(i)).as("frame %d from a", i).isEqualTo("a" + i);
                assertThat(atA.get(i)).as("frame %d from b", i).isEqualTo("b" + i);
            }
            assertThat(rb.data.poll(300, TimeUnit.MILLISECONDS)).as("no frame arrives twice").isNull();
            assertThat(ra.data).isEmpty();
            assertThat(ab.isOpen()).isTrue();
            assertThat(ba.isOpen()).isTrue();
            assertThat(ab.outages() + ba.outages()).as("connections were really cut").isGreaterThan(2);
            assertThat(ra.down).isEmpty();
            assertThat(rb.down).isEmpty();
            await().atMost(Duration.ofSeconds(5)).until(() -> ab.isConnected() && ba.isConnected());
        }
    }

    @Test
    void shouldEndTheSessionAtOnceWhenThePeerStops() throws Exception {
        WorkerId idB = WorkerId.random();
        LinkTransportTest.Recorder ra = new LinkTransportTest.Recorder();
        LinkTransport b = LinkTransport.start(fast().build(), idB, new LinkTransportTest.Recorder());
        try (LinkTransport a = LinkTransport.start(fast().outageLimitMs(60_000).build(), WorkerId.random(), ra)) {
            Link ab = a.dial(b.address(), idB).get(5, TimeUnit.SECONDS);
            // The peer's process stops without a goodbye: its port closes, and the redial is refused.
            b.closeAbruptlyForTest();
            String reason = ra.down.poll(5, TimeUnit.SECONDS);
            assertThat(reason).as("declared dead long before the 60 s outage limit")
                .contains("refuses connections");
            assertThat(ab.isOpen()).isFalse();
            assertThat(ab.outageLimitPassed()).isFalse();
        } finally {
            b.close();
        }
    }

    @Test
    void shouldEndTheSessionWhenThePeerNoLongerKnowsIt() throws Exception {
        try (Linked l = new Linked()) {
            Link ba = l.ba;
            LinkTransportTest.Recorder ra = l.ra;
            // b declares a dead without telling it (as after an outage a did not see); the connection
            // drops, a redials, and b no longer knows the session.
            ba.end("declared dead by the test", true);
            assertThat(ra.down.poll(5, TimeUnit.SECONDS)).contains("has no session");
        }
    }

    @Test
    void shouldDropASilentConnectionAndResumeTheSession() throws Exception {
        try (Linked l = new Linked()) {
            Link ab = l.ab;
            Link ba = l.ba;
            LinkTransportTest.Recorder ra = l.ra;
            LinkTransportTest.Recorder rb = l.rb;
            // b's connection stops answering without closing: a hears nothing past the silence limit.
            LinkHandler silent = ba.current();
            silent.channel().config().setAutoRead(false);
            await().atMost(Duration.ofSeconds(5)).until(() -> ab.outages() >= 1);
            ab.send(text(ab, "after the silence"));
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("after the silence");
            assertThat(ab.isOpen()).isTrue();
            assertThat(ra.down).isEmpty();
        }
    }

    @Test
    void shouldKeepAConnectionWhoseReaderIsHeldBackByTheLayerAbove() throws Exception {
        try (Linked l = new Linked()) {
            Link ab = l.ab;
            Link ba = l.ba;
            LinkTransportTest.Recorder ra = l.ra;
            LinkTransportTest.Recorder rb = l.rb;
            ba.pauseReading(); // back-pressure: b reads nothing, yet b is alive and says so
            ab.send(text(ab, "held"));
            // Wait for several silence limits' worth of heartbeats, then check nothing was cut.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
            while (System.nanoTime() < until) {
                assertThat(ab.outages() + ba.outages()).isZero();
                Thread.sleep(50);
            }
            ba.resumeReading();
            assertThat(rb.data.poll(5, TimeUnit.SECONDS)).isEqualTo("held");
        }
    }
}
