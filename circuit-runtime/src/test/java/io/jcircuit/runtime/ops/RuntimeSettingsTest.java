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

    enum Mode { fast, slow }

    enum Codec { Json, Binary }

    /** An enum's constant is set by its name in any case (a probe found lower-case constants never set). */
    @Test
    void anEnumWhoseConstantsAreNotInCapitalsCanBeSet() {
        RuntimeSettings s = new RuntimeSettings(new LogControl());
        s.define("app.mode", Mode.class, Mode.fast, v -> null);
        s.define("app.codec", Codec.class, Codec.Json, v -> null);
        assertThat(s.set("app.mode", "slow")).isEqualTo("slow");
        assertThat(s.set("app.codec", "Binary")).isEqualTo("Binary");
        assertThat(s.set("app.codec", "json")).isEqualTo("Json");
        assertThatThrownBy(() -> s.set("app.mode", "medium")).hasMessageContaining("'medium' is not one of [fast, slow]");
    }
}
