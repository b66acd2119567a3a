package io.jcircuit.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class LoopsTest {

    @Test
    void aWarmUpWhoseCompilersAreIdleEndsAfterOneSlice() throws Exception {
        List<Long> steps = new ArrayList<>();

        Loops.Warmed w = Loops.untilCompiled(() -> 1_000, steps::add, 0, 60_000);

        assertThat(w.settled()).isTrue();
        assertThat(steps).containsExactly(Loops.SLICE_MS);
    }

    @Test
    void aWarmUpGoesOnWhileTheCompilersWorkAndEndsInTheFirstQuietSlice() throws Exception {
        // compile time read before each slice and after it: busy for three slices, then quiet
        long[] readings = {0, 100, 200, 300, 300 + Loops.SETTLED_COMPILE_MS, 999_999};
        AtomicLong reads = new AtomicLong();
        List<Long> steps = new ArrayList<>();

        Loops.Warmed w = Loops.untilCompiled(() -> readings[(int) reads.getAndIncrement()], steps::add, 0, 60_000);

        assertThat(w.settled()).isTrue();
        assertThat(steps).hasSize(4);
        assertThat(w.describe()).doesNotContain("busy");
    }

    @Test
    void aWarmUpEndsAtItsCapWithTheCompilersStillBusy() throws Exception {
        AtomicLong compiled = new AtomicLong();
        List<Long> steps = new ArrayList<>();

        Loops.Warmed w = Loops.untilCompiled(() -> compiled.addAndGet(1_000), steps::add, 0, 0);

        assertThat(w.settled()).isFalse();
        assertThat(steps).containsExactly(1L); // a cap shorter than a slice shortens the slice
        assertThat(w.describe()).endsWith("(compilers still busy)");
    }

    @Test
    void aWarmUpLastsAtLeastItsMinimumThoughTheCompilersAreIdle() throws Exception {
        AtomicLong steps = new AtomicLong();

        // steps that return at once: the minimum is what keeps the warm-up going
        Loops.Warmed w = Loops.untilCompiled(() -> 0, ms -> steps.incrementAndGet(), 50, 60_000);

        assertThat(w.settled()).isTrue();
        assertThat(w.millis()).isGreaterThanOrEqualTo(50);
        assertThat(steps.get()).isGreaterThan(1);
    }
}
