package io.jcircuit.link;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LinkConfigTest {

    @Test
    void aRedialWaitsForItsConnectionAtMostASecondOrTheLongestBackoff() {
        // before: each redial waited the whole connect timeout (5 s) while its SYN was lost
        assertThat(LinkConfig.builder().build().redialConnectTimeoutMs()).isEqualTo(1_000);
        assertThat(LinkConfig.builder().connectTimeoutMs(300).build().redialConnectTimeoutMs()).isEqualTo(300);
        assertThat(LinkConfig.builder().redialMaxMs(4_000).build().redialConnectTimeoutMs()).isEqualTo(4_000);
        assertThat(LinkConfig.builder().redialMaxMs(8_000).connectTimeoutMs(6_000).build().redialConnectTimeoutMs()).isEqualTo(6_000);
    }
}
