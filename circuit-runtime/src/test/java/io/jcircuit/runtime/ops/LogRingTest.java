package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class LogRingTest {

    /**
     * A follower that joins while lines are logged gets the backlog and then every later line: none
     * missed between the two, none twice, in order. (A probe found a window between the backlog's read
     * and the follow in which lines went to neither.)
     */
    @Test
    void aFollowerThatJoinsWhileLinesAreLoggedMissesNone() throws Exception {
        int total = 20_000;
        LogRing ring = new LogRing(total);
        CountDownLatch halfway = new CountDownLatch(1);
        Thread logger = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < total; i++) {
                ring.add(Integer.toString(i));
                if (i == total / 10) {
                    halfway.countDown();
                }
            }
        });
        halfway.await();
        List<String> followed = new CopyOnWriteArrayList<>();
        List<String> before = ring.tailAndFollow(total, followed::add);
        logger.join();

        List<String> all = new ArrayList<>(before);
        all.addAll(followed);
        assertThat(before).isNotEmpty();
        assertThat(all).containsExactlyElementsOf(IntStream.range(0, total).mapToObj(Integer::toString).toList());
    }
}
