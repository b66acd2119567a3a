package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RuntimeSettingsTest {

    @Test
    void aValueOfTheWrongTypeIsNamedWithItsType() {
        assertThat(RuntimeSettings.parse(Integer.class, " 42 ")).isEqualTo(42);
        // before: "'abc' is not a Integer"
        assertThatThrownBy(() -> RuntimeSettings.parse(Integer.class, "abc")).hasMessage("'abc' is not an Integer");
        assertThatThrownBy(() -> RuntimeSettings.parse(Long.class, "x")).hasMessage("'x' is not a Long");
    }
}
