package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Profiles with the JFR engine, forced with {@link Profiler#jfrOnly()}. */
class JfrProfilerTest {

    private static final Duration SHORT = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    private final Profiler profiler = Profiler.jfrOnly();

    @Test
    void shouldSayItUsesJfrAndWhy() {
        assertThat(profiler.engine()).isEqualTo("jfr");
        assertThat(profiler.unavailableReason()).hasValueSatisfying(reason -> assertThat(reason).contains("jfrOnly"));
    }

    @Test
    void shouldShowTheBusyMethodInACpuFlameGraph() throws Exception {
        Path html = ProfilerWorkloads.burningCpu().during(() -> profiler.profile(ProfileKind.CPU, SHORT, dir.resolve("graphs/cpu.html")));
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>")
            .contains("io.jcircuit.runtime.ops.ProfilerWorkloads.burnCpuForProfilerTest")
            .containsPattern("<title>JCircuit flame graph - CPU - jfr - 1 s - [1-9][0-9]* samples</title>")
            .doesNotContain("http://", "https://");
    }

    @Test
    void shouldSpendMostCpuSamplesInTheBusyMethod() throws Exception {
        CollapsedStacks stacks = ProfilerWorkloads.burningCpu().during(() -> profiler.collapsed(ProfileKind.CPU, SHORT));
        long busyWeight = stacks.weightOfFramesContaining("ProfilerWorkloads.burnCpuForProfilerTest");
        System.out.printf("jfr cpu: %d of %d samples in the busy method%n", busyWeight, stacks.totalWeight());
        assertThat(stacks.samples()).isEqualTo(stacks.totalWeight());
        assertThat(busyWeight).isGreaterThan(stacks.totalWeight() / 5);
    }

    @Test
    void shouldWeighAllocationsInBytesInTheAllocatingMethod() throws Exception {
        CollapsedStacks stacks = ProfilerWorkloads.allocating().during(() -> profiler.collapsed(ProfileKind.ALLOC, SHORT));
        Path html = ProfilerWorkloads.allocating().during(() -> profiler.profile(ProfileKind.ALLOC, SHORT, dir.resolve("alloc.html")));
        long bytes = stacks.weightOfFramesContaining("allocateForProfilerTest");
        System.out.printf("jfr alloc: %d samples, %d of %d bytes in the allocating method%n",
            stacks.samples(), bytes, stacks.totalWeight());
        assertThat(bytes).as("bytes, not a sample count").isGreaterThan(stacks.samples());
        assertThat(Files.readString(html)).contains("allocateForProfilerTest").contains("ALLOC");
    }

    @Test
    void shouldWeighContentionInNanosInTheContendedMethod() throws Exception {
        CollapsedStacks stacks = ProfilerWorkloads.contending().during(() -> profiler.collapsed(ProfileKind.LOCK, SHORT));
        Path html = ProfilerWorkloads.contending().during(() -> profiler.profile(ProfileKind.LOCK, SHORT, dir.resolve("lock.html")));
        long nanos = stacks.weightOfFramesContaining("contendForProfilerTest");
        System.out.printf("jfr lock: %d events, %d of %d ns in the contended method%n",
            stacks.samples(), nanos, stacks.totalWeight());
        assertThat(nanos).isGreaterThanOrEqualTo(JfrEngine.LOCK_THRESHOLD.toNanos());
        assertThat(Files.readString(html)).contains("contendForProfilerTest").contains("LOCK");
    }

    @Test
    void shouldLetJfrProfilesOverlap() throws Exception {
        ProfilerWorkloads.burningCpu().during(() -> {
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<CollapsedStacks> cpu = threads.submit(() -> profiler.collapsed(ProfileKind.CPU, SHORT));
                Future<CollapsedStacks> alloc = threads.submit(() -> Profiler.jfrOnly().collapsed(ProfileKind.ALLOC, SHORT));
                assertThat(cpu.get().weightOfFramesContaining("burnCpuForProfilerTest")).isPositive();
                assertThat(alloc.get().stacks().keySet()).noneMatch(stack -> stack.endsWith("burnCpuForProfilerTest"));
            }
            return null;
        });
    }

    @Test
    void shouldRefuseAWallClockProfile() {
        assertThatThrownBy(() -> profiler.profile(ProfileKind.WALL, SHORT, dir.resolve("wall.html")))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("async-profiler");
        assertThat(dir.resolve("wall.html")).doesNotExist();
    }

    @Test
    void shouldRefuseDurationsOutOfRange() {
        assertThatThrownBy(() -> profiler.collapsed(ProfileKind.CPU, Duration.ZERO))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
        assertThatThrownBy(() -> profiler.collapsed(ProfileKind.CPU, Duration.ofHours(1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT1H");
    }
}
