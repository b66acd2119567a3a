package io.jcircuit.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The owner's side of a channel alone: what it keeps of the batches it lends, and for how long. */
class LocalChanTest {

    @Test
    void aLoanGivenBackComesFirstInOrderAndOnlyOnce() {
        LocalChan chan = new LocalChan(8);
        assertThat(chan.sendBatch(List.of(1, 2, 3, 4), 0)).isEqualTo(4);
        assertThat(chan.receiveLent(2, 0, 11, 0)).isEqualTo(List.of(1, 2));
        assertThat(chan.receiveBatch(1, 0)).isEqualTo(List.of(3)); // another receiver, meanwhile

        assertThat(chan.giveBack(11)).isEqualTo(2);
        assertThat(chan.giveBack(11)).as("given back already").isZero();
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1, 2, 4));
        assertThat(chan.loansHeld()).isZero();
    }

    @Test
    void aSettledLoanIsLetGoAndCannotComeBack() {
        LocalChan chan = new LocalChan(8);
        chan.sendBatch(List.of(1, 2, 3), 0);
        assertThat(chan.receiveLent(1, 0, 21, 0)).isEqualTo(List.of(1));
        assertThat(chan.receiveLent(1, 0, 22, 21)).isEqualTo(List.of(2));
        assertThat(chan.loansHeld()).isEqualTo(1);
        assertThat(chan.giveBack(21)).isZero();
        assertThat(chan.receiveLent(1, 0, 23, 22)).isEqualTo(List.of(3));
        assertThat(chan.receiveLent(1, 0, 24, 23)).as("nothing left: nothing lent").isEmpty();
        assertThat(chan.loansHeld()).isZero();
        assertThat(chan.giveBack(24)).isZero();
    }

    @Test
    void loansNobodySettlesAreLetGoAfterTheirTime() {
        LocalChan chan = new LocalChan(8, 0); // every loan is old at the next receive
        chan.sendBatch(List.of(1, 2, 3), 0);
        chan.receiveLent(1, 0, 31, 0);
        chan.receiveLent(1, 0, 32, 0); // copies that never come back
        assertThat(chan.loansHeld()).as("the second receive let the first loan go").isEqualTo(1);
        chan.receiveBatch(1, 0);
        assertThat(chan.loansHeld()).isZero();
        assertThat(chan.giveBack(31)).isZero();

        LocalChan kept = new LocalChan(8);
        kept.sendBatch(List.of(1, 2), 0);
        kept.receiveLent(1, 0, 41, 0);
        kept.receiveLent(1, 0, 42, 0);
        assertThat(kept.loansHeld()).as("within their time").isEqualTo(2);
    }

    @Test
    void aBatchThatCouldNotBeAnsweredComesBackWithoutItsLoan() {
        LocalChan chan = new LocalChan(8);
        chan.sendBatch(List.of(1, 2), 0);
        List<?> lent = chan.receiveLent(8, 0, 51, 0);
        chan.takeBack(lent); // as the dispatcher does when the answer cannot go
        assertThat(chan.loansHeld()).isZero();
        assertThat(chan.giveBack(51)).as("not twice").isZero();
        assertThat(chan.receiveBatch(8, 0)).isEqualTo(List.of(1, 2));
    }

    @Test
    void aLoanIsNumbered() {
        assertThatThrownBy(() -> new LocalChan(1).receiveLent(1, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("not 0");
    }
}
