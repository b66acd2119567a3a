package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The owner's side of a channel alone: what it keeps of the batches it lends, and for how long. */
@org.junit.jupiter.api.Timeout(60)
class LocalChanTest {

    @Test
    void aLoanGivenBackComesFirstInOrderAndOnlyOnce() {
        LocalChan chan = new LocalChan(8);
        assertThat(chan.sendBatch(List.of(1, 2, 3, 4), 0)).isEqualTo(4);
        assertThat(chan.receiveLent(2, 0, 11, 0, null)).isEqualTo(List.of(1, 2));
        assertThat(chan.receiveBatch(1, 0)).isEqualTo(List.of(3)); // another receiver, meanwhile

        assertThat(chan.giveBack(11)).isEqualTo(2);
        assertThat(chan.giveBack(11)).as("given back already").isZero();
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1, 2, 4));
    }

    @Test
    void aSettledLoanIsLetGoAndCannotComeBack() {
        LocalChan chan = new LocalChan(8);
        chan.sendBatch(List.of(1, 2, 3), 0);
        assertThat(chan.receiveLent(1, 0, 21, 0, null)).isEqualTo(List.of(1));
        assertThat(chan.receiveLent(1, 0, 22, 21, null)).isEqualTo(List.of(2));
        assertThat(chan.loansHeld()).isEqualTo(1);
        assertThat(chan.giveBack(21)).isZero();
        assertThat(chan.receiveLent(1, 0, 23, 22, null)).isEqualTo(List.of(3));
        assertThat(chan.receiveLent(1, 0, 24, 23, null)).as("nothing left: nothing lent").isEmpty();
        assertThat(chan.receiveBatch(1, 0)).isEmpty();
    }

    /** A review found the batch put in twice: given back by its receiver, then taken back as its answer could not go. */
    @Test
    void aBatchGivenBackAndThenTakenBackGoesInOnce() {
        LocalChan chan = new LocalChan(8);
        chan.sendBatch(List.of(1, 2), 0);
        List<?> lent = chan.receiveLent(8, 0, 51, 0, null);
        assertThat(chan.giveBack(51)).isEqualTo(2);
        chan.takeBack(lent, receiveLentArgs(51)); // as the dispatcher does when the answer cannot go
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1, 2));

        chan.sendBatch(List.of(3), 0);
        List<?> undelivered = chan.receiveLent(8, 0, 52, 0, null);
        chan.takeBack(undelivered, receiveLentArgs(52));
        assertThat(chan.giveBack(52)).as("taken back already").isZero();
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(3));
    }

    /** The arguments of a call of {@code receiveLent} for loan {@code loan}, as the dispatcher hands them to takeBack. */
    private static Object[] receiveLentArgs(long loan) {
        return new Object[] {8, 0L, loan, 0L, null};
    }

    /** A second review found the mark of an early give-back dropped to make room for lent items, and an item lent to nobody. */
    @Test
    void marksStayWhenTooManyItemsAreLent() {
        LocalChan chan = new LocalChan(1);
        assertThat(chan.giveBack(99)).isZero(); // receive 99 is still on its way
        for (int i = 1; i <= 100; i++) {
            chan.sendBatch(List.of(i), 0);
            assertThat(chan.receiveLent(1, 0, 1_000 + i, 0, null)).isEqualTo(List.of(i));
        }
        chan.sendBatch(List.of(42), 0);
        assertThat(chan.receiveLent(1, 0, 99, 0, null)).isEmpty();
        assertThat(chan.receiveBatch(1, 0)).isEqualTo(List.of(42));
    }

    /** ... and a batch given back, let go, then taken back, put in twice; here it is marked, and goes in once. */
    @Test
    void aBatchGivenBackIsNotPutInAgainWhenItsAnswerFailsAfterOtherLoans() {
        LocalChan chan = new LocalChan(1);
        chan.sendBatch(List.of(7), 0);
        List<?> heldUp = chan.receiveLent(1, 0, 99, 0, null);
        assertThat(chan.giveBack(99)).isEqualTo(1);
        assertThat(chan.receiveBatch(1, 0)).isEqualTo(List.of(7)); // delivered to another receiver
        for (int i = 1; i <= 100; i++) {
            chan.sendBatch(List.of(i), 0);
            chan.receiveLent(1, 0, 1_000 + i, 0, null);
        }
        chan.takeBack(heldUp, receiveLentArgs(99));
        chan.sendBatch(List.of(0), 0);
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(0));
    }

    /** ... and lent loans pushed out by the marks of a receiver that kept giving an unreadable batch back. */
    @Test
    void marksDoNotPushOutLentLoans() {
        LocalChan chan = new LocalChan(8);
        chan.sendBatch(List.of(1, 2, 3), 0);
        chan.receiveLent(2, 0, 7, 0, null); // a late loan of [1, 2]
        assertThat(chan.giveBack(99)).isZero(); // and a give-back that overtook its receive
        for (int i = 0; i < 3_000; i++) {
            List<?> poison = chan.receiveLent(1, 0, 1_000 + i, 0, null); // 3, which its receiver cannot read
            chan.answered(poison, receiveLentArgs(1_000 + i));
            assertThat(chan.giveBack(1_000 + i)).isEqualTo(1);
        }
        assertThat(chan.loansHeld()).as("the loans given back after their answers went are forgotten").isEqualTo(2);
        assertThat(chan.giveBack(7)).isEqualTo(2);
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1, 2, 3));
        chan.sendBatch(List.of(4), 0);
        assertThat(chan.receiveLent(8, 0, 99, 0, null)).as("its mark is still there").isEmpty();
    }

    /**
     * A third review found a batch given back put in again once 1,024 marks had pushed its mark out; a
     * loan given back while its answer is to go is not a mark, and stays until the answer went.
     */
    @Test
    void aLoanGivenBackBeforeItsAnswerWentStaysUntilItWent() {
        LocalChan chan = new LocalChan(1);
        chan.sendBatch(List.of(7), 0);
        List<?> heldUp = chan.receiveLent(1, 0, 99, 0, null);
        assertThat(chan.giveBack(99)).isEqualTo(1);
        for (int i = 0; i < 2 * LocalChan.MIN_MARKS; i++) {
            chan.giveBack(10_000 + i);
        }
        chan.takeBack(heldUp, receiveLentArgs(99));
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(7));

        chan.sendBatch(List.of(8), 0);
        List<?> answered = chan.receiveLent(1, 0, 98, 0, null);
        assertThat(chan.giveBack(98)).isEqualTo(1);
        int held = chan.loansHeld();
        chan.answered(answered, receiveLentArgs(98));
        assertThat(chan.loansHeld()).as("forgotten once its answer went").isEqualTo(held - 1);
    }

    /** A fourth review found loans given back whose answers are never told (self-calls) kept without bound. */
    @Test
    void loansGivenBackWithoutWordOfTheirAnswersAreBounded() {
        LocalChan chan = new LocalChan(1);
        for (int i = 0; i < 3_000; i++) {
            chan.sendBatch(List.of(i), 0);
            chan.receiveLent(1, 0, 1_000 + i, 0, null);
            assertThat(chan.giveBack(1_000 + i)).isEqualTo(1);
            chan.receiveBatch(1, 0);
        }
        assertThat(chan.loansHeld()).isLessThanOrEqualTo(LocalChan.MIN_MARKS);
    }

    /** ... and a batch let go, then given back (a mark), then taken back as its answer failed, dropped. */
    @Test
    void aBatchTakenBackUnderAMarkGoesBackIn() {
        LocalChan chan = new LocalChan(1);
        chan.sendBatch(List.of(7), 0);
        List<?> heldUp = chan.receiveLent(1, 0, 99, 0, null);
        for (int i = 1; i <= 100; i++) {
            chan.sendBatch(List.of(100 + i), 0);
            chan.receiveLent(1, 0, 1_000 + i, 0, null); // loan 99 is let go
        }
        assertThat(chan.giveBack(99)).isZero();
        chan.takeBack(heldUp, receiveLentArgs(99));
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(7));
    }

    /**
     * ... and a send after items came back in front of a full channel: the room was below 0, and the
     * send counted down for seconds under the lock, then said it had put in an item it had not.
     */
    @Test
    void aSendIntoAChannelOverfilledByAGiveBackWaitsForRoom() {
        LocalChan chan = new LocalChan(2);
        chan.sendBatch(List.of(1, 2), 0);
        chan.receiveLent(2, 0, 11, 0, null); // a late receive
        chan.sendBatch(List.of(3, 4), 0); // senders fill the room it left
        assertThat(chan.giveBack(11)).isEqualTo(2); // 4 items in a channel of 2
        assertThat(chan.sendBatch(List.of(5), 0)).isZero();
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1, 2, 3, 4));
        assertThat(chan.sendBatch(List.of(5), 0)).isEqualTo(1);
    }

    /** ... and the items of loans given back kept for a minute, also after other receivers took them. */
    @Test
    void aLoanGivenBackKeepsNoItems() {
        LocalChan chan = new LocalChan(2);
        for (int i = 0; i < 1_000; i++) {
            chan.sendBatch(List.of(i, i), 0);
            chan.receiveLent(2, 0, 1 + i, 0, null);
            chan.giveBack(1 + i);
            chan.receiveBatch(2, 0);
        }
        assertThat(chan.itemsLent()).isZero();
    }

    /** ... and a late loan let go at once on a small channel with a few consumers, each holding its last batch. */
    @Test
    void aSmallChannelKeepsTheLoansOfAFewConsumers() {
        LocalChan chan = new LocalChan(1);
        chan.sendBatch(List.of(1), 0);
        chan.receiveLent(1, 0, 99, 0, null); // its receiver gave up
        for (int w = 1; w <= 8; w++) {
            chan.sendBatch(List.of(10 + w), 0);
            chan.receiveLent(1, 0, w, 0, null); // eight consumers, each with its last item
        }
        assertThat(chan.giveBack(99)).isEqualTo(1);
    }

    /** A review found an item lent to a receive whose give-back had overtaken it on the way, and lost. */
    @Test
    void aLoanGivenBackBeforeItsReceiveCameLendsNothing() throws Exception {
        LocalChan chan = new LocalChan(8);
        assertThat(chan.giveBack(61)).isZero();
        chan.sendBatch(List.of(1), 0);
        assertThat(chan.receiveLent(8, 0, 61, 0, null)).isEmpty();
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1));

        // and one that waits for items when its give-back comes stops waiting, having taken none
        CompletableFuture<List<?>> waiting = CompletableFuture.supplyAsync(() -> chan.receiveLent(8, 30_000, 62, 0, null));
        org.awaitility.Awaitility.await().until(() -> chan.waiting());
        assertThat(chan.giveBack(62)).isZero();
        assertThat(waiting.get(10, TimeUnit.SECONDS)).isEmpty();
        chan.sendBatch(List.of(2), 0);
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(2));
    }

    /** A review found a single receiver's items out of order after a late receive whose give-back came after its next receive. */
    @Test
    void loansCarriedByAReceiveGoBackBeforeItLends() {
        LocalChan chan = new LocalChan(8);
        chan.sendBatch(List.of(1, 2), 0);
        chan.receiveLent(1, 0, 71, 0, null); // 1: its receiver gave up
        chan.receiveLent(1, 0, 72, 0, null); // 2: so did the next
        chan.sendBatch(List.of(3), 0);
        assertThat(chan.receiveLent(8, 0, 73, 0, new long[] {72, 71})).isEqualTo(List.of(1, 2, 3));
    }

    @Test
    void loansNobodySettlesAreLetGoAfterTheirTime() {
        LocalChan chan = new LocalChan(8, 0); // every loan is old at the next call
        chan.sendBatch(List.of(1, 2, 3), 0);
        chan.receiveLent(1, 0, 31, 0, null);
        chan.receiveLent(1, 0, 32, 0, null); // copies that never come back
        assertThat(chan.loansHeld()).as("the second receive let the first loan go").isEqualTo(1);
        chan.sendBatch(List.of(4), 0);
        assertThat(chan.loansHeld()).isZero();

        LocalChan kept = new LocalChan(8);
        kept.sendBatch(List.of(1, 2), 0);
        kept.receiveLent(1, 0, 41, 0, null);
        kept.receiveLent(1, 0, 42, 0, null);
        assertThat(kept.loansHeld()).as("within their time").isEqualTo(2);
    }

    /** A review found a loan kept for each copy that received once: the owner's memory grew past its capacity. */
    @Test
    void theOwnerLendsAtMostFourTimesItsCapacityOr64Items() {
        LocalChan chan = new LocalChan(2);
        for (int i = 0; i < 300; i++) {
            chan.sendBatch(List.of(i, i), 0);
            assertThat(chan.receiveLent(2, 0, 1_000 + i, 0, null)).hasSize(2); // each by a copy that never comes back
        }
        assertThat(chan.itemsLent()).isEqualTo(LocalChan.MIN_LENT_ITEMS); // above 4 times the capacity
        assertThat(chan.giveBack(1_299)).as("the newest is held").isEqualTo(2);
        assertThat(chan.giveBack(1_000)).as("the oldest went").isZero();

        for (int i = 0; i < 5_000; i++) {
            chan.giveBack(10_000 + i); // numbers never lent: marks, which a peer could send without end
        }
        assertThat(chan.loansHeld()).isLessThanOrEqualTo(LocalChan.MIN_MARKS + LocalChan.MIN_LENT_ITEMS);
    }

    @Test
    void aLoanIsNumbered() {
        assertThatThrownBy(() -> new LocalChan(1).receiveLent(1, 0, 0, 0, null)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("not 0");
    }
}
