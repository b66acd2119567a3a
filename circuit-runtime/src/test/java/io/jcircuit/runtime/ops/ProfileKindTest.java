package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProfileKindTest {

    @Test
    void shouldParseKindsIgnoringCaseAndNameTheChoicesOtherwise() {
        assertThat(ProfileKind.parse(" Alloc ")).isEqualTo(ProfileKind.ALLOC);
        assertThat(ProfileKind.parse("cpu")).isEqualTo(ProfileKind.CPU);
        assertThatThrownBy(() -> ProfileKind.parse("heap"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("\"heap\"").hasMessageContaining("cpu, alloc, lock, wall");
    }

    @Test
    void shouldWeighJfrProfilesInTheirOwnUnits() {
        assertThat(ProfileKind.CPU.unit()).isEqualTo("samples");
        assertThat(ProfileKind.ALLOC.unit()).isEqualTo("bytes");
        assertThat(ProfileKind.LOCK.unit()).isEqualTo("ns");
    }
}
