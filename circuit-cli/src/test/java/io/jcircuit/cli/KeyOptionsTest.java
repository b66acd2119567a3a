package io.jcircuit.cli;

import io.jcircuit.link.tls.ClusterKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which cluster key a command uses when none is named: the state directory's, if anything is there. */
class KeyOptionsTest {

    @TempDir
    Path state;

    @Test
    void shouldRunWithoutAKeyOnlyWhenNothingIsAtTheDefaultPlace() {
        assertThat(new KeyOptions().resolve(Map.of(), state)).isNull();
    }

    @Test
    void shouldUseTheKeyAtTheDefaultPlace() {
        Path file = state.resolve(ClusterKey.FILE_NAME);
        CliRun.Result r = CliRun.run("keygen", "-o", file.toString());
        assertThat(r.code()).as(r.err()).isZero();

        assertThat(new KeyOptions().load(Map.of(), state).fingerprint()).isEqualTo(ClusterKey.load(file).fingerprint());
    }

    @Test
    void shouldRefuseWhatIsAtTheDefaultPlaceButIsNoKeyRatherThanRunWithout() throws IOException {
        // before: a dangling link or a directory there was passed over, and the command ran keyless, in plain TCP
        Path file = state.resolve(ClusterKey.FILE_NAME);
        Files.createSymbolicLink(file, state.resolve("moved-away.key"));
        assertThatThrownBy(() -> new KeyOptions().load(Map.of(), state)).hasMessageContaining(file.toString());

        Files.delete(file);
        Files.createDirectory(file);
        assertThatThrownBy(() -> new KeyOptions().load(Map.of(), state)).hasMessageContaining(file.toString());
    }
}
