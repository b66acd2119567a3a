package io.jcircuit.link;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark's operations do what they claim: every frame comes out whole, whole or split. */
class FrameBenchTest {

    @Test
    void everyFrameOfEachReadComesOut() {
        FrameBench b = new FrameBench();
        b.setUp();
        try {
            assertThat(b.encode()).isEqualTo(FrameCodec.HEADER_LENGTH + FrameBench.PAYLOAD_BYTES);
            assertThat(b.decode()).isEqualTo(FrameBench.BATCH);
            assertThat(b.framesSeen()).isEqualTo(FrameBench.BATCH);
            assertThat(b.decodeSplit()).isEqualTo(FrameBench.BATCH);
            assertThat(b.framesSeen()).as("a read that ends mid-frame loses nothing").isEqualTo(2L * FrameBench.BATCH);
            assertThat(b.decode()).isEqualTo(FrameBench.BATCH);
            assertThat(b.framesSeen()).isEqualTo(3L * FrameBench.BATCH);
        } finally {
            b.tearDown();
        }
    }
}
