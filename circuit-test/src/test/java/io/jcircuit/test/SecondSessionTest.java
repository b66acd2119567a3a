package io.jcircuit.test;

import io.jcircuit.Address;
import io.jcircuit.test.RobustLinkTest.Counted;
import io.jcircuit.test.RobustLinkTest.Maker;
import io.jcircuit.test.RobustLinkTest.Pair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A second session with a peer while the first rides out a short outage (another address of the same
 * runtime): nothing has ended, so held calls and references in both directions live on, and the
 * connected session carries the calls. (A first fix of the session-replacement defect took any such
 * second session for the peer's new one and ended the first: every check here failed then.)
 */
@Timeout(120)
class SecondSessionTest {

    /**
     * A short outage (far below the 30 s limit) on the session a-b; meanwhile a dials b at another address
     * of the same runtime (its real port rather than its advertised proxy). Nothing has ended: a call held
     * through the outage must still run once and answer, and a reference a received from b must still work.
     */
    @Test
    void aSecondLinkToAPeerDuringABriefOutageKeepsTheHeldCallAndReferences() throws Exception {
        try (Pair p = new Pair(30_000, null)) {
            p.b.listen("maker", Maker.class, () -> p.b.ref(Counted.class, p.callee));
            Maker maker = p.a.worker(p.b.address()).dial("maker", Maker.class);
            Counted made = maker.make();
            assertThat(made.run(1)).isEqualTo(2);

            cut(p);
            CompletableFuture<Long> held = CompletableFuture.supplyAsync(() -> p.counted.run(21));
            dialElsewhereAndHeal(p);
            assertThat(held.get(30, java.util.concurrent.TimeUnit.SECONDS))
                .as("a call held through a 1 s outage answers").isEqualTo(42L);
            assertThat(made.run(7)).as("a reference a received from b before the outage").isEqualTo(14);
        }
    }

    /** As above, without a held call: a reference into b, received before a 1 s outage, must survive a second link. */
    @Test
    void aSecondLinkToAPeerDuringABriefOutageKeepsReferencesBothWays() throws Exception {
        try (Pair p = new Pair(30_000, null)) {
            p.b.listen("maker", Maker.class, () -> p.b.ref(Counted.class, p.callee));
            java.util.concurrent.ConcurrentHashMap<String, Runnable> kept = new java.util.concurrent.ConcurrentHashMap<>();
            p.b.listen("holder", RobustLinkTest.Holder.class, ref -> kept.put("ref", ref));
            java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            Maker maker = p.a.worker(p.b.address()).dial("maker", Maker.class);
            RobustLinkTest.Holder holder = p.a.worker(p.b.address()).dial("holder", RobustLinkTest.Holder.class);
            Counted made = maker.make();
            holder.keep(p.a.ref(Runnable.class, ran::incrementAndGet));
            assertThat(made.run(1)).isEqualTo(2);

            cut(p);
            dialElsewhereAndHeal(p);
            Throwable refFailure = null;
            try {
                made.run(7);
            } catch (Throwable t) {
                refFailure = t;
            }
            Throwable backFailure = null;
            try {
                io.jcircuit.Deadline.within(Duration.ofSeconds(10), () -> { kept.get("ref").run(); return null; });
            } catch (Throwable t) {
                backFailure = t;
            }
            assertThat(refFailure).as("a's reference into b, received before a 1 s outage").isNull();
            assertThat(backFailure).as("b's reference into a, received before a 1 s outage").isNull();
        }
    }

    /** A reference a holds into a fresh object of b must survive a second link made during a brief outage. */
    @Test
    void aSecondLinkToAPeerDuringABriefOutageKeepsAReferenceIntoThePeer() throws Exception {
        try (Pair p = new Pair(30_000, null)) {
            p.b.listen("maker", Maker.class, () -> p.b.ref(Counted.class, new RobustLinkTest.Callee()));
            Maker maker = p.a.worker(p.b.address()).dial("maker", Maker.class);
            Counted made = maker.make();
            assertThat(made.run(1)).isEqualTo(2);

            cut(p);
            dialElsewhereAndHeal(p);
            System.gc();
            assertThat(io.jcircuit.Deadline.within(Duration.ofSeconds(10), () -> made.run(7)))
                .as("a's reference into b, received before a 1 s outage").isEqualTo(14);
        }
    }

    /** A short outage of the session a-b: both sides ride it out, redialing. */
    private static void cut(Pair p) {
        p.fault(FaultProxy::drop);
        await().atMost(Duration.ofSeconds(10)).until(() ->
            p.a.links().stream().noneMatch(l -> l.isConnected()) && p.b.links().stream().noneMatch(l -> l.isConnected()));
    }

    /**
     * Meanwhile a dials b at b's own listening port, not the proxy it advertises: the same runtime at
     * another address, a second session; then the network heals.
     */
    private static void dialElsewhereAndHeal(Pair p) {
        Address direct = new Address("127.0.0.1", p.toB.target().getPort());
        Counted viaDirect = p.a.worker(direct).dial("counted", Counted.class);
        assertThat(viaDirect.run(3)).isEqualTo(6);
        p.fault(FaultProxy::pass);
    }
}
