package io.jcircuit.runtime;

import io.jcircuit.Chan;
import io.jcircuit.runtime.ops.Ops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

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
}
