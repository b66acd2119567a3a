package io.jcircuit.host;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class CpuOptionsTest {

    @Test
    void aJvmOnOneCpuStartsWithItsSpinWaitsWithoutThePauseInstruction() throws Exception {
        // The options of the checked release, tried on this JDK whatever its release: on a newer JDK
        // this test says whether CHECKED_FEATURE may move to it.
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(CpuOptions.forCpus(1, CpuOptions.CHECKED_FEATURE));
        cmd.add("-XX:+PrintFlagsFinal");
        cmd.add("-version");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

        // This JDK knows the intrinsic by that name (an unknown one stops the JVM), and takes it out.
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.lines().filter(l -> l.contains(" DisableIntrinsic ")))
            .singleElement().asString().contains("_onSpinWait", "{command line}");
    }

    @Test
    void aJvmWithMoreThanOneCpuOrOnAnUncheckedJdkGetsNothingExtra() {
        assertThat(CpuOptions.forCpus(1, CpuOptions.CHECKED_FEATURE + 1)).isEmpty();
        assertThat(CpuOptions.forCpus(1)).isEqualTo(CpuOptions.forCpus(1, Runtime.version().feature()));
        assertThat(CpuOptions.forCpus(2)).isEmpty();
        assertThat(CpuOptions.forCpus(64)).isEmpty();
        assertThat(CpuOptions.forThisMachine())
            .isEqualTo(CpuOptions.forCpus(Runtime.getRuntime().availableProcessors()));
    }
}
