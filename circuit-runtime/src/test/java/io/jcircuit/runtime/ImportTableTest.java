package io.jcircuit.runtime;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;
import io.jcircuit.codec.RefDescriptor;
import org.junit.jupiter.api.Test;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ImportTableTest {

    @Test
    void aPinGoesWhenItExpiresWithoutAnotherPass() {
        ImportTable table = new ImportTable(Cleaner.create(), releases -> { }, Duration.ofMillis(200).toNanos());
        RefDescriptor d = new RefDescriptor(new WorkerId(0x42), Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());

        table.pin(new RefHandler(null, d));
        table.pin(new RefHandler(null, d));
        assertThat(table.pinned()).isEqualTo(2);

        // before, pins went only when a later pass found them expired: the last ones passed stayed
        await().atMost(Duration.ofSeconds(10)).until(() -> table.pinned() == 0);
    }

    /** Before, one id per peer whose session ever ended was kept for ever (a leak probe: 301 after 300 clients). */
    @Test
    void peersWhoseSessionsEndedLongAgoAreNotKept() {
        ImportTable forever = new ImportTable(Cleaner.create(), releases -> { }, ImportTable.PIN_NANOS, Long.MAX_VALUE);
        ImportTable brief = new ImportTable(Cleaner.create(), releases -> { }, ImportTable.PIN_NANOS, 0);
        for (int i = 0; i < 300; i++) {
            forever.sessionEnded(new WorkerId(0x100 + i), "gone");
            brief.sessionEnded(new WorkerId(0x100 + i), "gone");
        }
        assertThat(forever.endedPeers()).as("within the window, every one is kept").isEqualTo(300);
        assertThat(brief.endedPeers()).as("past it, only the last").isEqualTo(1);
    }

    /**
     * A reference received from a third runtime and dropped at once is released at home only after
     * home has answered its acquire. Before, the release went at once, could reach home first, and
     * the acquire after it left a hold that nothing released.
     */
    @Test
    void aReleaseWaitsUntilHomeHasAnsweredTheAcquiresOfItsReference() {
        List<ImportTable.Pending> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        ImportTable table = new ImportTable(Cleaner.create(), released::addAll);
        RefDescriptor d = new RefDescriptor(new WorkerId(0x42), Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        Acquires.Owner answered = receiveAndDrop(table, d, new WorkerId(0x43));

        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return table.size() == 0; // the handler was collected
        });
        // The acquire is still on its way: no release may overtake it. A reference home sent itself, dropped
        // after, is released at once, by the same cleaner thread, through the same queue: once its release is
        // there, one of the first that did not wait would be there too (before it).
        RefDescriptor fromHome = new RefDescriptor(d.home(), d.address(), 8, Runnable.class.getName());
        receiveAndDrop(table, fromHome);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return !released.isEmpty();
        });
        assertThatReleases(released).containsExactly(owed(d.home(), d.address(), 8, 1));

        answered.answered(Acquires.Outcome.COUNTED, "acquired");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThatReleases(released).containsExactly(
            owed(d.home(), d.address(), 8, 1), owed(d.home(), d.address(), 7, 1)));
    }

    /**
     * Releases queued for a home whose session then ends are dropped: home forgot those holds, and sent
     * into a later session they would take holds that session counted.
     */
    @Test
    void releasesQueuedForAHomeWhoseSessionEndsAreNotSent() throws Exception {
        List<ImportTable.Pending> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch sending = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        WorkerId busy = new WorkerId(0x41);
        WorkerId home = new WorkerId(0x42);
        ImportTable table = new ImportTable(Cleaner.create(), batch -> {
            if (batch.getFirst().home().equals(busy)) {
                sending.countDown();
                try {
                    go.await(); // the release thread is held up (it sends one home at a time)
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            released.addAll(batch);
        });
        Address at = Address.parse("127.0.0.1:9");
        receiveAndDrop(table, new RefDescriptor(busy, at, 7, Runnable.class.getName()));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return sending.getCount() == 0;
        });
        receiveAndDrop(table, new RefDescriptor(home, at, 8, Runnable.class.getName()));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return table.queuedReleases() == 1; // queued behind the one being sent
        });

        table.sessionEnded(home, "past the outage limit");
        assertThat(table.queuedReleases()).isZero();
        go.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> !released.isEmpty());
        assertThatReleases(released).containsExactly(owed(busy, at, 7, 1));
    }

    /**
     * A release already taken off the queue when its home's session ended is not owed any more, also once a
     * new session with that home began: the sender looks again ({@link ImportTable#current}) after it found
     * the session to send on. Before, only releases still queued were dropped, and one being sent could take a
     * hold the new session counted.
     */
    @Test
    void aReleaseCountedBeforeItsHomesSessionEndedIsNotOwedToALaterSession() throws Exception {
        List<ImportTable.Pending> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        ImportTable table = new ImportTable(Cleaner.create(), released::addAll);
        WorkerId home = new WorkerId(0x43);
        Address at = Address.parse("127.0.0.1:9");
        receiveAndDrop(table, new RefDescriptor(home, at, 7, Runnable.class.getName()));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return !released.isEmpty();
        });
        List<ImportTable.Pending> taken = List.copyOf(released);
        assertThat(table.current(taken)).as("owed while the session it was counted in is up").isEqualTo(taken);

        table.sessionEnded(home, "past the outage limit");
        table.sessionBegan(home);
        assertThat(table.current(taken)).as("home forgot it with the session that ended").isEmpty();

        released.clear();
        receiveAndDrop(table, new RefDescriptor(home, at, 8, Runnable.class.getName()));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return !released.isEmpty();
        });
        assertThatReleases(table.current(List.copyOf(released))).as("one counted in the new session").containsExactly(owed(home, at, 8, 1));
    }

    /** A release as a test expects it: what it gives back, to whom, not the token of the sessions it was counted in. */
    private static ImportTable.Pending owed(WorkerId home, Address address, long handle, long count) {
        return new ImportTable.Pending(home, address, handle, count, null);
    }

    private static org.assertj.core.api.ListAssert<ImportTable.Pending> assertThatReleases(List<ImportTable.Pending> released) {
        return assertThat(released).usingRecursiveFieldByFieldElementComparatorIgnoringFields("sessions");
    }

    /** Receives {@code d} from its home, which owes no acquire, and drops its handler. */
    private static void receiveAndDrop(ImportTable table, RefDescriptor d) {
        Acquires.Owner[] acquired = {null};
        table.handlerFor(d, d.home(), desc -> new RefHandler(null, desc), acquired);
        assertThat(acquired[0]).as("no acquire is owed for a reference from its home").isNull();
    }

    /**
     * A reference read from the store is acquired only when this runtime holds none of it: at the first
     * read, not at the reads after it, nor after it arrived from its home or a third runtime; its release
     * gives back what was counted. Before, every read owed an acquire.
     */
    @Test
    void aStoredReferenceIsAcquiredOnlyWhenThisRuntimeHoldsNoneOfIt() {
        List<ImportTable.Pending> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        ImportTable table = new ImportTable(Cleaner.create(), released::addAll);
        WorkerId home = new WorkerId(0x42);
        RefDescriptor d = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        Acquires.Owner[] acquired = {null};

        RefHandler first = table.storedHandlerFor(d, desc -> new RefHandler(null, desc), acquired);
        Acquires.Owner answered = acquired[0];
        assertThat(answered).as("the first read acquires").isNotNull();
        for (int i = 0; i < 100; i++) {
            assertThat(table.storedHandlerFor(d, desc -> new RefHandler(null, desc), acquired)).isSameAs(first);
            assertThat(acquired[0]).as("a read while it is held").isNull();
        }
        answered.answered(Acquires.Outcome.COUNTED, "acquired");

        RefDescriptor sent = new RefDescriptor(home, d.address(), 8, Runnable.class.getName());
        RefHandler fromHome = table.handlerFor(sent, home, desc -> new RefHandler(null, desc), acquired);
        table.storedHandlerFor(sent, desc -> new RefHandler(null, desc), acquired);
        assertThat(acquired[0]).as("a read of one its home sent").isNull();

        RefDescriptor passed = new RefDescriptor(home, d.address(), 9, Runnable.class.getName());
        RefHandler fromThird = table.handlerFor(passed, new WorkerId(0x43), desc -> new RefHandler(null, desc), acquired);
        Acquires.Owner passedAnswered = acquired[0];
        table.storedHandlerFor(passed, desc -> new RefHandler(null, desc), acquired);
        assertThat(acquired[0]).as("a read of one a third runtime passed, its acquire on its way").isNull();
        passedAnswered.answered(Acquires.Outcome.COUNTED, "acquired");

        assertThat(List.of(first, fromHome, fromThird)).hasSize(3);
        first = null;
        fromHome = null;
        fromThird = null;
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            System.gc();
            assertThatReleases(released).containsExactlyInAnyOrder(owed(home, d.address(), 7, 1),
                owed(home, d.address(), 8, 1), owed(home, d.address(), 9, 1));
        });

        table.storedHandlerFor(d, desc -> new RefHandler(null, desc), acquired);
        assertThat(acquired[0]).as("a read after it was dropped and released acquires again").isNotNull();
    }

    /** Receives {@code d} from {@code third} and drops its handler; returns what runs once its acquire is answered. */
    private static Acquires.Owner receiveAndDrop(ImportTable table, RefDescriptor d, WorkerId third) {
        Acquires.Owner[] acquired = {null};
        table.handlerFor(d, third, desc -> new RefHandler(null, desc), acquired);
        assertThat(acquired[0]).as("an acquire is owed for a reference from a third runtime").isNotNull();
        return acquired[0];
    }

    /**
     * A release gives back what home can have counted: each arrival from home, each acquire home
     * answered, and each whose outcome is unknown (a hold leaked rather than a live object freed); not
     * an acquire that was never sent. Before, every arrival was given back.
     */
    @Test
    void aReleaseGivesBackOnlyWhatHomeCanHaveCounted() {
        List<ImportTable.Pending> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        ImportTable table = new ImportTable(Cleaner.create(), released::addAll);
        WorkerId home = new WorkerId(0x42);
        WorkerId third = new WorkerId(0x43);
        RefDescriptor d = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        Acquires.Owner[] acquired = {null};

        RefHandler h = table.handlerFor(d, home, desc -> new RefHandler(null, desc), acquired); // home counted 1
        table.handlerFor(d, third, desc -> new RefHandler(null, desc), acquired);
        acquired[0].answered(Acquires.Outcome.NOT_SENT, "refused");
        table.handlerFor(d, third, desc -> new RefHandler(null, desc), acquired);
        acquired[0].answered(Acquires.Outcome.UNKNOWN, "the answer was lost");
        table.handlerFor(d, third, desc -> new RefHandler(null, desc), acquired);
        acquired[0].answered(Acquires.Outcome.COUNTED, "acquired");
        h.checkHeld();

        assertThat(h).isNotNull();
        h = null;
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            System.gc();
            assertThatReleases(released).containsExactly(owed(home, d.address(), 7, 3));
        });
    }

    /**
     * A reference whose acquires were given up, none of them sent, and of which home counts nothing
     * else, is lost: its calls fail at once, saying why, rather than work until home collects its
     * object; received or read again, it is a new one, acquired again. Before, it worked on, uncounted,
     * and a stored read was never acquired again while its handler lived.
     */
    @Test
    void aReferenceWhoseAcquireWasGivenUpIsLostAndAcquiredAgainWhenItComesAgain() {
        ImportTable table = new ImportTable(Cleaner.create(), releases -> { });
        java.util.concurrent.atomic.AtomicInteger tried = new java.util.concurrent.atomic.AtomicInteger();
        Acquires acquires = new Acquires(home -> false, ref -> {
            tried.incrementAndGet();
            throw new io.jcircuit.WorkerDiedException(ref.home(), false, "cannot reach worker " + ref.home() + ": refused");
        }, new long[] {1_000_000, 1_000_000});
        WorkerId home = new WorkerId(0x42);
        WorkerId third = new WorkerId(0x43);
        RefDescriptor passed = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        RefDescriptor stored = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 8, Runnable.class.getName());
        Acquires.Owner[] acquired = {null};

        RefHandler fromThird = table.handlerFor(passed, third, desc -> new RefHandler(null, desc), acquired);
        acquires.acquireSoon(passed, third, acquired[0]);
        RefHandler read = table.storedHandlerFor(stored, desc -> new RefHandler(null, desc), acquired);
        acquires.acquireSoon(stored, third, acquired[0]);
        await().atMost(Duration.ofSeconds(10)).until(() -> acquires.answered() == 2);
        assertThat(tried.get()).as("three tries each, or fewer: one that failed took those queued with it").isBetween(3, 6);

        for (RefHandler lost : List.of(fromThird, read)) {
            assertThatThrownBy(lost::checkHeld).isInstanceOf(io.jcircuit.WorkerDiedException.class)
                .hasMessageContaining("is gone").hasMessageContaining("could not be told that this runtime holds it")
                .hasMessageContaining("refused");
        }
        assertThat(table.size()).isZero();
        RefHandler again = table.handlerFor(passed, third, desc -> new RefHandler(null, desc), acquired);
        assertThat(again).isNotSameAs(fromThird);
        assertThat(acquired[0]).as("acquired again").isNotNull();
        again.checkHeld();
        RefHandler readAgain = table.storedHandlerFor(stored, desc -> new RefHandler(null, desc), acquired);
        assertThat(readAgain).isNotSameAs(read);
        assertThat(acquired[0]).as("acquired again").isNotNull();
        readAgain.checkHeld();
    }

    /**
     * An acquire that fails with an Error is that acquire's alone: the home's queue is drained on. Before,
     * the Error ended the thread with the home's thread count still taken, and no later acquire at that
     * home was ever sent.
     */
    @Test
    void anAcquireThatFailsWithAnErrorLeavesTheHomesLaterAcquiresSent() {
        java.util.concurrent.atomic.AtomicInteger tried = new java.util.concurrent.atomic.AtomicInteger();
        Acquires acquires = new Acquires(home -> true, ref -> {
            if (tried.incrementAndGet() == 1) {
                throw new StackOverflowError("the first acquire fails");
            }
        });
        WorkerId home = new WorkerId(0x42);
        WorkerId third = new WorkerId(0x43);
        List<Acquires.Outcome> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
        Acquires.Owner owner = new Acquires.Owner() {
            @Override
            public boolean wanted() {
                return true;
            }

            @Override
            public void answered(Acquires.Outcome outcome, String why) {
                outcomes.add(outcome);
            }
        };
        acquires.acquireSoon(new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName()), third, owner);
        await().atMost(Duration.ofSeconds(10)).until(() -> acquires.answered() == 1);
        acquires.acquireSoon(new RefDescriptor(home, Address.parse("127.0.0.1:9"), 8, Runnable.class.getName()), third, owner);
        await().atMost(Duration.ofSeconds(10)).until(() -> acquires.answered() == 2);
        assertThat(outcomes).containsExactly(Acquires.Outcome.UNKNOWN, Acquires.Outcome.COUNTED);
        assertThat(acquires.queued()).isZero();
    }

    /**
     * An acquire still on its way when the session with its home ends for good is answered after the end
     * (its call fails as the session goes: outcome unknown; or its answer was read just before): home dropped
     * every hold of this runtime with the session, that one too, so the lost handler's release gives back
     * nothing. Home counts per runtime, not per handler: before, that release gave back one hold, the one
     * home counts for a new handler of the same reference sent once a new session began, and home could
     * collect the object that handler still calls.
     */
    @Test
    void anAcquireAnsweredAfterTheSessionWithItsHomeEndedGivesNothingBack() {
        List<ImportTable.Pending> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        ImportTable table = new ImportTable(Cleaner.create(), released::addAll);
        WorkerId home = new WorkerId(0x42);
        RefDescriptor d = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        Acquires.Owner[] acquired = {null};

        RefHandler old = table.handlerFor(d, new WorkerId(0x43), desc -> new RefHandler(null, desc), acquired);
        Acquires.Owner onItsWay = acquired[0];
        assertThat(table.sessionEnded(home, "past the outage limit")).isEqualTo(1);
        onItsWay.answered(Acquires.Outcome.UNKNOWN, "worker 42 died before it answered");
        table.sessionBegan(home); // the network healed: a new session, in which home counts nothing of old
        RefHandler again = table.handlerFor(d, home, desc -> new RefHandler(null, desc), acquired); // home counts 1
        assertThat(again).isNotSameAs(old);

        java.lang.ref.WeakReference<RefHandler> collected = new java.lang.ref.WeakReference<>(old);
        old = null;
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return collected.get() == null;
        });
        // one home sent, dropped after the old one: its release is there once the old one's would be (before it)
        receiveAndDrop(table, new RefDescriptor(home, d.address(), 8, Runnable.class.getName()));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return !released.isEmpty();
        });
        assertThatReleases(released).as("nothing of the old handler's: home dropped it with the session")
            .containsExactly(owed(home, d.address(), 8, 1));
        again.checkHeld();
    }

    /**
     * Once the table has closed, an acquire answered unsent (each is, as nothing is sent any more) of a
     * handler of which home counts nothing leaves the table with it. Before, the entry was marked gone and
     * left in the table: the same reference arriving again while that handler was reachable (a message
     * read as the runtime closed) found it, skipped it as gone, and found it again, for ever, on a thread
     * that never returned.
     */
    @Test
    void aReferenceArrivingAfterCloseIsNotLookedUpForEver() throws Exception {
        ImportTable table = new ImportTable(Cleaner.create(), releases -> { });
        WorkerId home = new WorkerId(0x42);
        RefDescriptor d = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        Acquires.Owner[] acquired = {null};
        RefHandler held = table.handlerFor(d, new WorkerId(0x43), desc -> new RefHandler(null, desc), acquired);

        table.close();
        acquired[0].answered(Acquires.Outcome.NOT_SENT, "this runtime closed");
        java.util.concurrent.CompletableFuture<RefHandler> again = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() ->
            again.complete(table.handlerFor(d, home, desc -> new RefHandler(null, desc), new Acquires.Owner[1])));

        await().atMost(Duration.ofSeconds(10)).until(again::isDone);
        assertThat(again.get()).isNotSameAs(held);
    }

    @Test
    void aReferenceReadFromAnEndedSessionAfterItEndedIsLostToo() {
        ImportTable table = new ImportTable(Cleaner.create(), releases -> { });
        WorkerId home = new WorkerId(0x42);
        WorkerId third = new WorkerId(0x43);
        RefDescriptor before = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 7, Runnable.class.getName());
        RefDescriptor late = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 8, Runnable.class.getName());
        Acquires.Owner[] acquire = {null};
        RefHandler held = table.handlerFor(before, home, d -> new RefHandler(null, d), acquire);

        assertThat(table.sessionEnded(home, "goodbye")).isEqualTo(1);
        assertThatThrownBy(held::checkHeld).isInstanceOf(io.jcircuit.WorkerDiedException.class);
        // before: a message of that session still being read got a handler that held, though home had let go
        RefHandler readLate = table.handlerFor(late, home, d -> new RefHandler(null, d), acquire);
        assertThatThrownBy(readLate::checkHeld).isInstanceOf(io.jcircuit.WorkerDiedException.class).hasMessageContaining("is gone");
        // passed on by a third runtime, which holds it: it is acquired at home, and holds
        RefHandler passed = table.handlerFor(late, third, d -> new RefHandler(null, d), acquire);
        passed.checkHeld();
        assertThat(acquire[0]).isNotNull();

        table.sessionBegan(home);
        RefDescriptor fresh = new RefDescriptor(home, Address.parse("127.0.0.1:9"), 9, Runnable.class.getName());
        table.handlerFor(fresh, home, d -> new RefHandler(null, d), acquire).checkHeld(); // a new session's: held
    }
}
