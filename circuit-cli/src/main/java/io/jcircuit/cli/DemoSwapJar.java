package io.jcircuit.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the swap demo's version 2 is: {@code examples-v2.jar}, which the build copies beside the CLI's
 * jar ({@code circuit-cli/target/swap/}); from a source tree, the module's own {@code target}.
 */
final class DemoSwapJar {

    private DemoSwapJar() {
    }

    static Path locate() {
        List<Path> tried = new ArrayList<>();
        String named = System.getProperty("circuit.swapDemoJar");
        if (named != null) {
            tried.add(Path.of(named));
        }
        try {
            Path here = Path.of(DemoSwapJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path target = here.getParent(); // circuit-cli/target, from the jar or from target/classes
            tried.add(target.resolve("swap").resolve("examples-v2.jar"));
            tried.add(target.getParent().getParent().resolve("examples-v2").resolve("target").resolve("examples-v2.jar"));
        } catch (URISyntaxException | RuntimeException e) {
            // no code source: only the working directory is left
        }
        tried.add(Path.of("examples-v2", "target", "examples-v2.jar"));
        for (Path p : tried) {
            if (Files.isRegularFile(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new IllegalStateException("the swap demo's version 2 (examples-v2.jar) is not built; looked at " + tried
            + ". Build it with ./mvnw -B -q -DskipTests package");
    }
}
