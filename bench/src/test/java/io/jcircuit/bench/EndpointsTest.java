package io.jcircuit.bench;

import io.jcircuit.Address;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndpointsTest {

    @Test
    void shouldReadBackItsLine() {
        Endpoints e = new Endpoints(41234, "rO0AB+/=", Address.parse("127.0.0.1:41235"), Address.parse("127.0.0.1:41236"));

        assertThat(e.toLine()).isEqualTo("tcp=41234 rmi=rO0AB+/= circuit=127.0.0.1:41235 bare=127.0.0.1:41236");
        assertThat(Endpoints.parse(e.toLine())).isEqualTo(e);
    }

    @Test
    void shouldNameWhatIsMissing() {
        assertThatThrownBy(() -> Endpoints.parse("tcp=1 circuit=127.0.0.1:2"))
            .hasMessageContaining("rmi=").hasMessageContaining("tcp=1 circuit=127.0.0.1:2");
    }
}
