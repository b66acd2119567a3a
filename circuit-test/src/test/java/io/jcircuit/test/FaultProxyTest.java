package io.jcircuit.test;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class FaultProxyTest {

    /** How long a test watches for bytes that must not arrive. */
    private static final Duration QUIET = Duration.ofMillis(200);
    /** The bound on waiting for something that must happen. */
    private static final Duration PATIENCE = Duration.ofSeconds(10);

    private EchoServer echo;
    private FaultProxy proxy;
    private final List<Socket> clients = new ArrayList<>();

    @BeforeEach
    void startEchoBehindProxy() throws IOException {
        echo = EchoServer.start();
        proxy = FaultProxy.start(echo.address());
    }

    @AfterEach
    void closeAll() throws IOException {
        for (Socket c : clients) {
            c.close();
        }
        proxy.close();
        echo.close();
    }

    @Test
    void shouldForwardBytesBothWaysInOrder() throws Exception {
        Socket c = connect();
        byte[] sent = new byte[1 << 20];
        new Random(42).nextBytes(sent);

        CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> write(c, sent));
        byte[] got = readExactly(c, sent.length);
        writing.get();

        assertThat(got).isEqualTo(sent);
        assertThat(proxy.address().getPort()).isEqualTo(proxy.port());
        assertThat(proxy.connectionsAccepted()).isEqualTo(1);
        // a writer counts the bytes just after writing them: the client may have read them first
        await().atMost(PATIENCE).until(() -> proxy.bytesToTarget() == sent.length && proxy.bytesFromTarget() == sent.length);
    }

    @Test
    void shouldResetOpenConnectionsAndNewOnesWhenDropping() throws Exception {
        Socket before = connect();
        assertEchoes(before, "hello");

        proxy.drop();

        assertEndsOrResets(before);
        await().atMost(PATIENCE).until(() -> echo.open() == 0); // the target side was reset too
        assertResetOnConnect(proxy.address());
        assertThat(proxy.connectionsAccepted()).isEqualTo(2);
        assertThat(echo.accepted()).as("a dropped connection never reaches the target").isEqualTo(1);
        assertThat(proxy.openConnections()).isZero();

        proxy.pass();
        assertEchoes(connect(), "again");
    }

    @Test
    void shouldForwardNothingInABlackholeAndForwardNewBytesAfterPass() throws Exception {
        Socket before = connect();
        assertEchoes(before, "a");

        proxy.blackhole();
        write(before, bytes("lost"));
        Socket during = connect();
        write(during, bytes("also lost"));
        await().atMost(PATIENCE).until(() -> proxy.bytesDiscarded() == "lost".length() + "also lost".length());
        assertNothingArrives(before, during); // and neither is closed

        proxy.pass();
        assertEchoes(connect(), "new");
        assertEchoes(before, "healed"); // what the blackhole swallowed never turns up
        assertEchoes(during, "healed too");
        assertThat(proxy.connectionsAccepted()).isEqualTo(3);
    }

    @Test
    void shouldLeaveNewConnectionsUnansweredWhileUnreachableAndLetThemInAfter() throws Exception {
        Socket before = connect();
        assertEchoes(before, "a");

        proxy.unreachable();
        write(before, bytes("lost"));
        await().atMost(PATIENCE).until(() -> proxy.bytesDiscarded() == "lost".length());
        assertNothingArrives(before);
        Socket attempt = new Socket();
        clients.add(attempt);
        // no answer, as from a network that lost the SYN: not a refusal, not a reset
        assertThatThrownBy(() -> attempt.connect(proxy.address(), 500)).isInstanceOf(SocketTimeoutException.class);
        assertThat(proxy.connectionsAccepted()).as("the proxy's own fillers are not counted").isEqualTo(1);

        proxy.pass();
        assertEchoes(connect(), "new");
        assertEchoes(before, "healed");
        assertThat(proxy.connectionsAccepted()).isEqualTo(2);
    }

    @Test
    void shouldHoldAnEndOfStreamThroughABlackholeAndPassItOnAfter() throws Exception {
        Socket c = connect();
        assertEchoes(c, "a");
        proxy.blackhole();

        c.shutdownOutput();
        assertNothingArrives(c);
        assertThat(echo.open()).isEqualTo(1);

        proxy.pass();
        assertEndsOrResets(c); // the target saw the end of stream, and closed
        await().atMost(PATIENCE).until(() -> echo.open() == 0 && proxy.openConnections() == 0);
    }

    @Test
    void shouldDelayEveryByteByAtLeastTheDelayInOrder() throws Exception {
        Socket c = connect();
        assertEchoes(c, "warm");
        Duration delay = Duration.ofMillis(150);
        proxy.delay(delay);

        long t0 = System.nanoTime();
        for (String part : List.of("1", "2", "3")) {
            write(c, bytes(part));
        }
        assertThat(new String(readExactly(c, 3), StandardCharsets.UTF_8)).isEqualTo("123");
        Duration roundTrip = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(roundTrip).as("delayed on the way there and on the way back").isGreaterThanOrEqualTo(delay.multipliedBy(2));
        assertThat(proxy.mode()).isEqualTo(FaultProxy.Mode.DELAY);
    }

    @Test
    void shouldReleaseDelayedBytesAtOnceOnPass() throws Exception {
        Socket c = connect();
        proxy.delay(Duration.ofMinutes(5));
        write(c, bytes("held"));
        await().atMost(PATIENCE).until(() -> echo.accepted() == 1);
        assertNothingArrives(c);

        proxy.pass();

        c.setSoTimeout((int) PATIENCE.toMillis());
        assertThat(new String(readExactly(c, 4), StandardCharsets.UTF_8)).isEqualTo("held");
    }

    @Test
    void shouldPassAHalfCloseOnAndCloseWhenTheTargetCloses() throws Exception {
        Socket c = connect();
        write(c, bytes("bye"));
        c.shutdownOutput();

        assertThat(new String(readExactly(c, 3), StandardCharsets.UTF_8)).isEqualTo("bye");
        assertThat(c.getInputStream().read()).isEqualTo(-1);
        await().atMost(PATIENCE).until(() -> proxy.openConnections() == 0 && echo.open() == 0);
    }

    @Test
    void shouldResetTheClientWhenTheTargetCannotBeReached() throws Exception {
        InetSocketAddress nowhere;
        try (ServerSocket s = new ServerSocket(0, 1, proxy.address().getAddress())) {
            nowhere = new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
        try (FaultProxy toNowhere = FaultProxy.start(nowhere)) {
            assertResetOnConnect(toNowhere.address());
            await().atMost(PATIENCE).until(() -> toNowhere.openConnections() == 0);
        }
    }

    @Test
    void shouldEndEveryThreadAndConnectionOnClose() throws Exception {
        Socket passing = connect();
        assertEchoes(passing, "x");
        Socket delayed = connect();
        proxy.delay(Duration.ofMinutes(5));
        write(delayed, bytes("queued in the proxy"));
        Socket holdingEnd = connect();
        proxy.blackhole();
        holdingEnd.shutdownOutput();
        String prefix = "fault-proxy-" + proxy.port() + "-";
        // all three dialed, and their threads started: each "up" thread starts its connection's other three only
        // after its dial returns, which can be after the echo server has accepted
        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(echo.accepted()).isEqualTo(3);
            assertThat(threadsNamed(prefix)).hasSizeGreaterThan(3 * 3);
        });

        proxy.close();

        assertThat(threadsNamed(prefix)).isEmpty();
        for (Socket c : List.of(passing, delayed, holdingEnd)) {
            assertEndsOrResets(c);
        }
        assertThatThrownBy(() -> connect()).isInstanceOf(IOException.class);
        proxy.close(); // a second close does nothing
    }

    private Socket connect() throws IOException {
        Socket c = new Socket();
        clients.add(c);
        c.connect(proxy.address(), (int) PATIENCE.toMillis());
        c.setSoTimeout((int) PATIENCE.toMillis());
        return c;
    }

    /** A new connection is reset: while connecting (the reset can beat the connect's return) or right after. */
    private void assertResetOnConnect(InetSocketAddress to) throws IOException {
        Socket c = new Socket();
        clients.add(c);
        try {
            c.connect(to, (int) PATIENCE.toMillis());
        } catch (SocketException resetWhileConnecting) {
            assertThat(resetWhileConnecting).hasMessageContaining("reset");
            return;
        }
        assertEndsOrResets(c);
    }

    private static void assertEchoes(Socket c, String text) throws IOException {
        write(c, bytes(text));
        assertThat(new String(readExactly(c, text.length()), StandardCharsets.UTF_8)).isEqualTo(text);
    }

    /** The peer's end of stream or a reset, within {@link #PATIENCE}; never data, never a timeout. */
    private static void assertEndsOrResets(Socket c) throws IOException {
        c.setSoTimeout((int) PATIENCE.toMillis());
        try {
            assertThat(c.getInputStream().read()).as("end of stream").isEqualTo(-1);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection neither ended nor was reset within " + PATIENCE, e);
        } catch (SocketException reset) {
            assertThat(reset).hasMessageContaining("reset");
        }
    }

    /** Waits {@link #QUIET} once, for all the sockets together: none may receive a byte, or end. */
    private static void assertNothingArrives(Socket... sockets) throws IOException {
        long deadline = System.nanoTime() + QUIET.toNanos();
        for (Socket c : sockets) {
            c.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            assertThatThrownBy(() -> c.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            c.setSoTimeout((int) PATIENCE.toMillis());
        }
    }

    private static byte[] readExactly(Socket c, int n) throws IOException {
        byte[] out = new byte[n];
        InputStream in = c.getInputStream();
        for (int off = 0; off < n; ) {
            int r = in.read(out, off, n - off);
            if (r < 0) {
                throw new AssertionError("end of stream after " + off + " of " + n + " bytes: " + Arrays.toString(Arrays.copyOf(out, Math.min(off, 16))));
            }
            off += r;
        }
        return out;
    }

    private static void write(Socket c, byte[] b) {
        try {
            c.getOutputStream().write(b);
            c.getOutputStream().flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
            .filter(n -> n.startsWith(prefix)).sorted().toList();
    }
}
