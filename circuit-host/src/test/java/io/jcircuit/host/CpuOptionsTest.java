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
    void aJvmWithMoreThanOneCpuLeavesOneToTheEventLoopAndOnAnUncheckedJdkGetsNoIntrinsicOption() {
        assertThat(CpuOptions.forCpus(1, CpuOptions.CHECKED_FEATURE + 1)).isEmpty();
        assertThat(CpuOptions.forCpus(1)).isEqualTo(CpuOptions.forCpus(1, Runtime.version().feature()));
        assertThat(CpuOptions.forCpus(2)).containsExactly("-Djdk.virtualThreadScheduler.parallelism=1");
        assertThat(CpuOptions.forCpus(64)).containsExactly("-Djdk.virtualThreadScheduler.parallelism=63");
        assertThat(CpuOptions.forCpus(2, CpuOptions.CHECKED_FEATURE + 1)).isEqualTo(CpuOptions.forCpus(2));
        assertThat(CpuOptions.forThisMachine())
            .isEqualTo(CpuOptions.forCpus(Runtime.getRuntime().availableProcessors()));
    }

    /** Virtual threads that keep a CPU busy for a while each, reporting the carrier they ran on. */
    public static final class Carriers {
        public static void main(String[] args) throws Exception {
            java.util.Set<String> carriers = java.util.concurrent.ConcurrentHashMap.newKeySet();
            try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 16; i++) {
                    threads.submit(() -> {
                        long end = System.nanoTime() + 20_000_000L;
                        while (System.nanoTime() < end) {
                            String t = Thread.currentThread().toString(); // VirtualThread[#n]/runnable@CARRIER
                            carriers.add(t.substring(t.indexOf('@') + 1));
                        }
                    });
                }
            }
            System.out.println("CARRIERS " + carriers.size());
        }
    }

    @Test
    void aJvmGivenTheTwoCpuOptionsRunsItsVirtualThreadsOnOneCarrier() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(CpuOptions.forCpus(2));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Carriers.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("CARRIERS 1");
    }
}
