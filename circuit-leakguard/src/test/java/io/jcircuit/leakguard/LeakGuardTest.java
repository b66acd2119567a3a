package io.jcircuit.leakguard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeakGuardTest {

    @Test
    void theBuildTracksEveryBufferThroughTheGuard() {
        PooledByteBufAllocator.DEFAULT.buffer(16).release(); // Netty builds the buffers' detector on first use
        assertThat(ResourceLeakDetector.getLevel()).isNotEqualTo(ResourceLeakDetector.Level.DISABLED);
        assertThat(LeakGuard.active()).as("Netty's detectors come from the guard").isTrue();
    }

    /**
     * Netty's factory looks up the guard's constructor of its older API before the current one, and logs an error
     * with a stack trace in every test JVM when it is missing.
     */
    @Test
    @SuppressWarnings("deprecation")
    void theGuardHasBothConstructorsNettysFactoryLooksUp() throws Exception {
        assertThat(LeakGuardDetector.class.getConstructor(Class.class, int.class)).isNotNull();
        Object built = LeakGuardDetector.class.getConstructor(Class.class, int.class, long.class)
                .newInstance(ByteBuf.class, 1, Long.MAX_VALUE);
        assertThat(built).isInstanceOf(LeakGuardDetector.class);
    }

    @Test
    void aBufferCollectedUnreleasedIsReportedWithWhereItWasMadeAndAReleasedOneIsNot() {
        dropUnreleased();
        dropReleased();

        // A report carries the stack that created the buffer, which names this method.
        String here = "aBufferCollectedUnreleasedIsReportedWithWhereItWasMadeAndAReleasedOneIsNot";
        List<String> reports = new ArrayList<>();
        await().until(() -> {
            reports.addAll(LeakGuard.collect());
            return reports.stream().anyMatch(r -> r.contains(here));
        });
        assertThat(reports).filteredOn(r -> r.contains(here)).singleElement().asString()
                .contains("was not released before it was collected")
                .contains(LeakGuardTest.class.getName() + ".dropUnreleased");
        assertThat(reports).noneMatch(r -> r.contains("dropReleased"));
    }

    @Test
    void theExtensionFailsTheClassWithTheReport() {
        dropUnreleased();

        await().untilAsserted(() -> assertThatThrownBy(() -> LeakGuardExtension.check("SomeTest"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("during or before SomeTest")
                .hasMessageContaining("theExtensionFailsTheClassWithTheReport"));
        LeakGuardExtension.check("SomeTest"); // the reports were claimed: nothing is left to fail the next class
    }

    private static void dropUnreleased() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(64);
        buf.writeLong(1);
    }

    private static void dropReleased() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(64);
        buf.writeLong(2);
        buf.release();
    }
}
