package io.jcircuit.bench.hot;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark measures what it claims: a proxy that copies through the runtime, and the object. */
class ProxyBenchTest {

    @Test
    void referenceIsAProxyThatAnswersWithACopy() {
        ProxyBench b = new ProxyBench();
        b.setUp();
        try {
            assertThat(Proxy.isProxyClass(b.reference().getClass())).isTrue();
            assertThat(b.object()).isNotSameAs(b.reference());
            String viaReference = b.localReference();
            assertThat(viaReference).isEqualTo("hello");
            assertThat(viaReference).as("the answer is a copy, as from a remote call").isNotSameAs(b.direct());
        } finally {
            b.tearDown();
        }
    }
}
