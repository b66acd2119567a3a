package io.jcircuit.codec;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ForyPoolTest {

    private final ForyPool pool = new ForyPool(getClass().getClassLoader(), fory -> new ReferenceSerializers.Context(), 4,
        new ClassDefIds(ClassDefIds.DEFAULT_MAX_IDS, ClassDefIds.DEFAULT_MAX_IDS_PER_PEER));

    @Test
    void keepsItsInstanceButNotTheBufferALargeValueGrew() {
        ForyPool.Slot slot = pool.acquire();
        slot.fory.serialize(slot.out, new byte[3 << 20]);
        assertThat(slot.out.size()).isGreaterThan(3 << 20);
        pool.release(slot);

        ForyPool.Slot again = pool.acquire();
        assertThat(again).isSameAs(slot); // not a new instance: building one costs milliseconds
        assertThat(again.out.size()).isLessThan(1 << 20);
        assertThat(again.out.writerIndex()).isZero();
        pool.release(again);
    }

    @Test
    void startsASmallValueAtTheStartOfItsKeptBuffer() {
        ForyPool.Slot slot = pool.acquire();
        slot.fory.serialize(slot.out, "first");
        pool.release(slot);
        ForyPool.Slot again = pool.acquire();
        assertThat(again).isSameAs(slot);
        assertThat(again.out.writerIndex()).isZero();
        again.fory.serialize(again.out, "second");
        assertThat(again.fory.deserialize(again.out.getBytes(0, again.out.writerIndex()))).isEqualTo("second");
        pool.release(again);
    }
}
