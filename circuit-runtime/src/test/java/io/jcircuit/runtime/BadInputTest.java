package io.jcircuit.runtime;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jcircuit.codec.MessageCodec;
import io.jcircuit.link.FrameCodec;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bad input from one peer closes that peer's connection, with one clear log line, and nothing else:
 * the runtime keeps serving its other links.
 */
class BadInputTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private CircuitRuntime victim;
    private Echo healthyLink;

    @BeforeEach
    void startVictimWithAHealthyPeer() {
        Logger root = (Logger) LoggerFactory.getLogger("io.jcircuit");
        log.start();
        root.addAppender(log);
        victim = runtimes.start(c -> c.maxFrameBytes(64 * 1024));
        victim.listen("echo", Echo.class, new EchoImpl());
        CircuitRuntime healthy = runtimes.start();
        healthyLink = healthy.dial(victim.address(), "echo", Echo.class);
        assertThat(healthyLink.echo("before")).isEqualTo("before");
    }

    @AfterEach
    void detachLog() {
        ((Logger) LoggerFactory.getLogger("io.jcircuit")).detachAppender(log);
    }

    private void assertOnlyThatLinkClosed(RawPeer peer, String logFragment) throws Exception {
        assertThat(peer.closedByPeer()).as("the runtime closes the offending connection").isTrue();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<ILoggingEvent> logged;
            synchronized (log) { // the appender adds under this lock, from the runtime's threads
                logged = List.copyOf(log.list);
            }
            assertThat(logged).map(ILoggingEvent::getFormattedMessage).anyMatch(m -> m.contains(logFragment));
        });
        assertThat(healthyLink.echo("after")).as("other links stay up").isEqualTo("after");
    }

    @Test
    void shouldCloseAConnectionThatSpeaksAnotherProtocol() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address())) {
            peer.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertOnlyThatLinkClosed(peer, "exceeds");
        }
    }

    @Test
    void shouldCloseALinkThatSendsAnOversizedFrame() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            ByteBuf header = Unpooled.buffer().writeInt(10 * 1024 * 1024).writeByte(FrameCodec.VERSION)
                .writeByte(FrameCodec.TYPE_DATA).writeShort(0).writeLong(1).writeLong(0);
            peer.send(header);
            assertOnlyThatLinkClosed(peer, "exceeds");
        }
    }

    @Test
    void shouldDropATruncatedFrameWhenThePeerGoesAway() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            peer.sendRaw(new byte[] {0, 0, 0, 100, FrameCodec.VERSION, FrameCodec.TYPE_DATA, 0, 0, 0, 0, 0});
            peer.shutdownOutput();
            assertOnlyThatLinkClosed(peer, "truncated frame");
        }
    }

    @Test
    void shouldCloseALinkThatSendsAnUnknownFrameType() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            ByteBuf frame = FrameCodec.finish(FrameCodec.begin(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, (byte) 99, 0));
            peer.send(frame);
            assertOnlyThatLinkClosed(peer, "unknown frame type 99");
        }
    }

    @Test
    void shouldCloseALinkThatSkipsTheHandshake() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address())) {
            peer.send(peer.data(new byte[] {MessageCodec.KIND_CALL, 0, 0, 0, 0, 0, 0, 0, 1}));
            assertOnlyThatLinkClosed(peer, "expected HELLO");
        }
    }

    @Test
    void shouldCloseALinkThatSendsAnUnknownMessageKind() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            peer.send(peer.data(new byte[] {42, 0, 0, 0, 0, 0, 0, 0, 1}));
            assertOnlyThatLinkClosed(peer, "unknown message kind 42");
        }
    }

    /**
     * What waits for the offender to end its session is dropped with the session this runtime ended,
     * without running. Before, it stayed for ever: only a session the peer ended removed it.
     */
    @Test
    void shouldKeepNothingWaitingForAPeerWhoseLinkItClosed() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
            victim.whenPeerEnds(peer.id(), reason -> ran.set(true));
            assertThat(victim.peerEndActions(peer.id())).isEqualTo(1);
            peer.send(peer.data(new byte[] {42, 0, 0, 0, 0, 0, 0, 0, 1}));
            assertOnlyThatLinkClosed(peer, "unknown message kind 42");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(victim.peerEndActions(peer.id())).as("actions kept for the ended session").isZero());
            assertThat(ran).as("the peer did not end it").isFalse();
        }
    }

    /**
     * A message whose envelope is sound but whose values do not decode fails its own call, and the link
     * carries the next. Before, it closed the link: a probe found values (an {@code InetAddress}, a record whose
     * constructor refused the value) that took the link, every reference over it and the worker down.
     */
    @Test
    void shouldFailOnlyTheCallOfAMessageWhoseValuesDoNotDecode() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            ByteBuf call = Unpooled.buffer().writeByte(MessageCodec.KIND_CALL).writeLong(7).writeLong(1)
                .writeLong(1_000_000_000L).writeBytes(new byte[] {(byte) 0xff, 0x13, 0x37, 0x00, 0x55});
            byte[] payload = new byte[call.readableBytes()];
            call.readBytes(payload);
            peer.send(peer.data(payload));
            ByteBuf answer = peer.nextData();
            assertThat(MessageCodec.callId(answer)).isEqualTo(7);
            assertThat(MessageCodec.kind(answer)).as("a failure for that call").isEqualTo(MessageCodec.KIND_FAILURE);
            assertThat(victim.codec().decode(answer)).isInstanceOfSatisfying(io.jcircuit.codec.Message.Failure.class,
                f -> assertThat(f.failure().message()).contains("could not decode the request").contains("could not be read"));

            peer.send(victim, new io.jcircuit.codec.Message.Lookup(8, "echo", 10_000_000_000L));
            ByteBuf next = peer.nextData();
            assertThat(MessageCodec.callId(next)).isEqualTo(8);
            assertThat(MessageCodec.kind(next)).as("the link serves the next call").isEqualTo(MessageCodec.KIND_REPLY);
        }
        assertThat(healthyLink.echo("after")).isEqualTo("after");
    }

    /** A message whose envelope is broken (a list of holds longer than the message) cannot be answered: the link closes. */
    @Test
    void shouldCloseALinkThatSendsAMessageWhoseEnvelopeIsBroken() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            ByteBuf call = Unpooled.buffer().writeByte(MessageCodec.KIND_CALL | MessageCodec.HOLDS).writeLong(7).writeLong(1)
                .writeLong(1_000_000_000L).writeInt(5).writeLong(1);
            byte[] payload = new byte[call.readableBytes()];
            call.readBytes(payload);
            peer.send(peer.data(payload));
            assertOnlyThatLinkClosed(peer, "undecodable request #7: malformed holds list of 5 handles");
        }
    }

    @Test
    void shouldCloseALinkWhoseSequenceNumbersSkip() throws Exception {
        try (RawPeer peer = new RawPeer(victim.address()).handshake()) {
            ByteBuf frame = peer.data(new byte[] {MessageCodec.KIND_REPLY, 0, 0, 0, 0, 0, 0, 0, 1});
            frame.setLong(FrameCodec.SEQUENCE_OFFSET, 5);
            peer.send(frame);
            assertOnlyThatLinkClosed(peer, "out of order");
        }
    }
}
