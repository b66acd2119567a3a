package io.jcircuit.codec;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ForyPoolTest {

    private final ForyPool pool = new ForyPool(getClass().getClassLoader(), fory -> new ReferenceSerializers.Context(), 4,
        new ClassDefIds(ClassDefIds.DEFAULT_MAX_IDS, ClassDefIds.DEFAULT_MAX_IDS_PER_PEER));

    /** Map entries have serializers of the codec's own: Fory generated and compiled one per class and direction in each JVM. */
    @Test
    void writesTheJdksMapEntriesWithoutGeneratingASerializer() {
        ForyPool.Slot slot = pool.acquire();
        for (Class<?> entry : java.util.List.of(java.util.AbstractMap.SimpleImmutableEntry.class,
                java.util.AbstractMap.SimpleEntry.class, java.util.Map.entry(1, 2).getClass())) {
            assertThat(slot.fory.getClassResolver().getSerializer(entry).getClass().getName()).as(entry.getName())
                .startsWith(ViewSerializers.class.getName());
        }
        pool.release(slot);
    }

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

    @Test
    void theInstanceBuiltWithThePoolGoesToOneAcquirerOnly() throws Exception {
        ForyPool fresh = new ForyPool(getClass().getClassLoader(), fory -> new ReferenceSerializers.Context(), 4,
            new ClassDefIds(ClassDefIds.DEFAULT_MAX_IDS, ClassDefIds.DEFAULT_MAX_IDS_PER_PEER));
        java.util.concurrent.CompletableFuture<ForyPool.Slot> a = java.util.concurrent.CompletableFuture.supplyAsync(fresh::acquire);
        java.util.concurrent.CompletableFuture<ForyPool.Slot> b = java.util.concurrent.CompletableFuture.supplyAsync(fresh::acquire);
        ForyPool.Slot one = a.get();
        ForyPool.Slot two = b.get();
        assertThat(one).isNotSameAs(two);
        for (ForyPool.Slot s : java.util.List.of(one, two)) {
            s.fory.serialize(s.out, "works");
            assertThat(s.fory.deserialize(s.out.getBytes(0, s.out.writerIndex()))).isEqualTo("works");
        }
        fresh.release(one);
        assertThat(fresh.acquire()).as("released, then taken again rather than a new one built").isSameAs(one);
    }

    @Test
    void aSetUpThatFailsFailsTheFirstAcquireWithItsOwnException() {
        ForyPool failing = new ForyPool(getClass().getClassLoader(), fory -> {
            throw new IllegalArgumentException("no such record");
        }, 4, new ClassDefIds(ClassDefIds.DEFAULT_MAX_IDS, ClassDefIds.DEFAULT_MAX_IDS_PER_PEER));
        assertThatThrownBy(failing::acquire).isInstanceOf(IllegalArgumentException.class).hasMessage("no such record");
        assertThatThrownBy(failing::acquire).as("and every later one").isInstanceOf(IllegalArgumentException.class);
    }
}
