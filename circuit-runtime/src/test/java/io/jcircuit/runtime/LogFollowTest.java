package io.jcircuit.runtime;

import io.jcircuit.Chan;
import io.jcircuit.runtime.ops.Ops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code circuit log -f} on the runtime it follows: a follower that leaves is let go of at once. */
class LogFollowTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    private static final String PUMP = "\"circuit-log-follow-";

    @Test
    void aFollowerThatLeavesIsLetGoOfWithoutWaitingForALine() {
        CircuitRuntime followed = runtimes.start();
        CircuitRuntime follower = runtimes.start();
        Ops ops = follower.dial(followed.address(), Ops.SERVICE, Ops.class);
        Chan<String> sink = follower.makeChan(64);
        Ops local = followed.self().dial(Ops.SERVICE, Ops.class);

        ops.logFollow(sink, 0);
        assertThat(local.threadDump(false)).contains(PUMP);
        follower.close();

        // before: its thread, and its place in the log ring, stayed until the followed runtime logged a line
        await().atMost(Duration.ofSeconds(30)).until(() -> !local.threadDump(false).contains(PUMP));
    }

    /**
     * A follower follows many times and ends each follow by closing its channel, as a console does.
     * Once nothing more is logged, the followed runtime keeps no pump and no action for any of them,
     * and the follower's channels are released. Before, each follow left an action waiting for the
     * follower's session to end, which held its pump's thread and channel: 100 follows, 100 actions, 100
     * channels kept exported (a leak probe); and a pump whose channel was closed waited for a line.
     */
    @Test
    void followsThatTheFollowerClosesLeaveNothingBehind() {
        CircuitRuntime followed = runtimes.start();
        CircuitRuntime follower = runtimes.start();
        Ops ops = follower.dial(followed.address(), Ops.SERVICE, Ops.class);
        Ops local = followed.self().dial(Ops.SERVICE, Ops.class);
        int followerExports = follower.exports().size();

        for (int i = 0; i < 20; i++) {
            followOneLineAndClose(ops, follower, i);
        }

        // nothing is logged from here on: each pump finds its channel closed without a line to send
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            System.gc();
            assertThat(local.threadDump(false)).as("pumps left on the followed runtime").doesNotContain(PUMP);
            assertThat(followed.peerEndActions(follower.id())).as("actions kept for the follower's session").isZero();
            assertThat(follower.exports().size()).as("the follower's exports (its closed channels)")
                .isEqualTo(followerExports);
        });
    }

    private static void followOneLineAndClose(Ops ops, CircuitRuntime follower, int i) {
        Chan<String> sink = follower.makeChan(16);
        ops.logFollow(sink, 0);
        LoggerFactory.getLogger(LogFollowTest.class).warn("line {} for a follower", i);
        assertThat(sink.receive()).isNotNull();
        sink.close();
    }
}
