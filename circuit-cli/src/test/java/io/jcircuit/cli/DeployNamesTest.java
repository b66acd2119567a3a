package io.jcircuit.cli;

import io.jcircuit.runtime.host.Deployment;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What {@code circuit deploy} calls a jar by default, and the stored form of a deployment. */
class DeployNamesTest {

    @Test
    void theDefaultNameIsTheFileNameWithoutVersionAndJar() {
        assertThat(DeployCommand.defaultName("app.jar")).isEqualTo("app");
        assertThat(DeployCommand.defaultName("app-1.2.jar")).isEqualTo("app");
        assertThat(DeployCommand.defaultName("examples-0.1.0-SNAPSHOT.jar")).isEqualTo("examples");
        assertThat(DeployCommand.defaultName("my-shop-2.0.1.jar")).isEqualTo("my-shop");
        assertThat(DeployCommand.defaultName("1.0.jar")).isEqualTo("1.0");
    }

    @Test
    void aDeploymentRoundTripsThroughItsStoredForm() {
        Deployment d = new Deployment("app", 3, "ab".repeat(32), 1234, "app-1.2.jar", Instant.parse("2025-01-02T03:04:05.678Z"), "1.2");
        assertThat(Deployment.decode(d.path(), d.encode())).isEqualTo(d);
        assertThat(d.path()).isEqualTo("/deployments/app/3");
        assertThat(d.label()).isEqualTo("app:3");
        assertThat(d.shortHash()).isEqualTo("abababababab");
        assertThat(new String(d.encode(), java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("#").contains("sha256=" + "ab".repeat(32));
    }

    @Test
    void badNamesAndStoredValuesAreRefusedWithTheirValue() {
        assertThatThrownBy(() -> Deployment.checkName("a/b")).hasMessageContaining("'a/b'");
        assertThatThrownBy(() -> Deployment.decode("/deployments/x/1", "name=x\nversion=1\n".getBytes()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/deployments/x/1 is not a deployment");
    }
}
