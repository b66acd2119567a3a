package io.jcircuit.link;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinkConfigTest {

    @Test
    void aRedialWaitsForItsConnectionAtMostASecondOrTheLongestBackoff() {
        // before: each redial waited the whole connect timeout (5 s) while its SYN was lost
        assertThat(LinkConfig.builder().build().redialConnectTimeoutMs()).isEqualTo(1_000);
        assertThat(LinkConfig.builder().connectTimeoutMs(300).build().redialConnectTimeoutMs()).isEqualTo(300);
        assertThat(LinkConfig.builder().redialMaxMs(4_000).build().redialConnectTimeoutMs()).isEqualTo(4_000);
        assertThat(LinkConfig.builder().redialMaxMs(8_000).connectTimeoutMs(6_000).build().redialConnectTimeoutMs()).isEqualTo(6_000);
    }

    @Test
    void aJvmPropertyThatIsNotAWholeNumberIsRefusedByName() {
        String name = "circuit.test.intProperty." + System.nanoTime(); // this test's own
        assertThat(LinkConfig.intProperty(name, 7)).isEqualTo(7);
        try {
            System.setProperty(name, " 1500 ");
            assertThat(LinkConfig.intProperty(name, 7)).isEqualTo(1_500);
            System.setProperty(name, "0x3E8"); // read as Integer.getInteger read it
            assertThat(LinkConfig.intProperty(name, 7)).isEqualTo(1_000);
            System.setProperty(name, "5s");
            // before: Integer.getInteger gave the default, and a typo went unnoticed
            assertThatThrownBy(() -> LinkConfig.intProperty(name, 7))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(name).hasMessageContaining("'5s'");
        } finally {
            System.clearProperty(name);
        }
    }

    @Test
    void theBoundOnConnectionsWaitingForTheirHandshakeIsSetPerRuntimeOrPerJvm() {
        assertThat(LinkConfig.builder().build().maxPendingConnections()).isEqualTo(LinkConfig.DEFAULT_MAX_PENDING_CONNECTIONS);
        assertThat(LinkConfig.builder().maxPendingConnections(8).build().maxPendingConnections()).isEqualTo(8);
        assertThat(LinkConfig.builder().maxPendingConnections(8).build().withTls(null).maxPendingConnections()).isEqualTo(8);
        assertThatThrownBy(() -> LinkConfig.builder().maxPendingConnections(0).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessage("maxPendingConnections=0 must be positive");
        try {
            System.setProperty("circuit.link.maxPendingConnections", "16");
            assertThat(LinkConfig.builder().build().maxPendingConnections()).isEqualTo(16);
        } finally {
            System.clearProperty("circuit.link.maxPendingConnections");
        }
    }
}
