package io.jcircuit.runtime.ops;

import one.profiler.AsyncProfiler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/** Profiles with async-profiler; skipped where its native library does not load. */
class AsyncProfilerTest {

    private static final Duration SHORT = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    private final Profiler profiler = new Profiler();

    @BeforeEach
    void requireAsyncProfiler() {
        assumeThat(profiler.engine())
            .as("async-profiler does not load here: %s", profiler.unavailableReason().orElse("?"))
            .isEqualTo("async-profiler");
    }

    @Test
    void shouldShowTheBusyMethodInACpuFlameGraph() throws Exception {
        Path html = ProfilerWorkloads.burningCpu().during(() -> profiler.profile(ProfileKind.CPU, SHORT, dir.resolve("cpu.html")));
        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>")
            .contains("burnCpuForProfilerTest")
            .contains("JCircuit flame graph - CPU - async-profiler [event cpu] - 1 s - ");
    }

    @Test
    void shouldSpendMostCpuSamplesInTheBusyMethod() throws Exception {
        CollapsedStacks stacks = ProfilerWorkloads.burningCpu().during(() -> profiler.collapsed(ProfileKind.CPU, SHORT));
        long busyWeight = stacks.weightOfFramesContaining("ProfilerWorkloads.burnCpuForProfilerTest");
        System.out.printf("async-profiler cpu: %d of %d samples in the busy method%n", busyWeight, stacks.totalWeight());
        assertThat(busyWeight).isGreaterThan(stacks.totalWeight() / 5);
    }

    /** Here perf_events work, so an event async-profiler does not know stands in for a forbidden one. */
    @Test
    void shouldFallBackToTheNextCpuEventWhenTheFirstIsRefused() throws Exception {
        Profiler fallingBack = new Profiler(kind -> List.of("no-such-event", "itimer"));
        Path html = ProfilerWorkloads.burningCpu().during(() -> fallingBack.profile(ProfileKind.CPU, SHORT, dir.resolve("itimer.html")));
        assertThat(Files.readString(html)).contains("burnCpuForProfilerTest").contains("[event itimer]");
    }

    @Test
    void shouldSayWhyNoEventWorked() {
        Profiler hopeless = new Profiler(kind -> List.of("no-such-event", "no-other-event"));
        assertThatThrownBy(() -> hopeless.collapsed(ProfileKind.CPU, SHORT))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("cannot profile CPU")
            .hasMessageContaining("event=no-such-event failed: Unsupported event type")
            .hasMessageContaining("event=no-other-event failed");
        assertThat(asyncProfilerActive()).isFalse();
    }

    @Test
    void shouldDrawWithJfrWhenNoAsyncProfilerEventStarts() throws Exception {
        Profiler hopeless = new Profiler(kind -> List.of("no-such-event"));
        Path out = dir.resolve("jfr.html");
        String engine = ProfilerWorkloads.burningCpu().during(() -> hopeless.profileTo(ProfileKind.CPU, SHORT, out));
        assertThat(engine).isEqualTo("jfr");
        assertThat(Files.readString(out)).contains("burnCpuForProfilerTest").contains("JCircuit flame graph - CPU - jfr");
        assertThatThrownBy(() -> hopeless.profileTo(ProfileKind.WALL, SHORT, dir.resolve("wall.html")))
            .hasMessageContaining("cannot profile WALL");
    }

    /** The ops service calls from virtual threads; async-profiler refuses to start from one. */
    @Test
    void shouldProfileWhenCalledFromAVirtualThread() throws Exception {
        Path out = dir.resolve("virtual.html");
        CompletableFuture<String> engine = new CompletableFuture<>();
        ProfilerWorkloads.burningCpu().during(() -> {
            Thread.ofVirtual().start(() -> {
                try {
                    engine.complete(profiler.profileTo(ProfileKind.CPU, SHORT, out));
                } catch (Exception | Error e) {
                    engine.completeExceptionally(e);
                }
            }).join();
            return null;
        });
        assertThat(engine.get()).isEqualTo("async-profiler");
        assertThat(Files.readString(out)).contains("burnCpuForProfilerTest");
    }

    @Test
    void shouldShowTheAllocatingMethodInAnAllocFlameGraph() throws Exception {
        Path html = ProfilerWorkloads.allocating().during(() -> profiler.profile(ProfileKind.ALLOC, SHORT, dir.resolve("alloc.html")));
        assertThat(Files.readString(html)).contains("allocateForProfilerTest").contains("ALLOC");
    }

    @Test
    void shouldShowTheContendedMethodInALockFlameGraph() throws Exception {
        CollapsedStacks stacks = ProfilerWorkloads.contending().during(() -> profiler.collapsed(ProfileKind.LOCK, SHORT));
        assertThat(stacks.weightOfFramesContaining("contendForProfilerTest")).isPositive();
    }

    @Test
    void shouldWriteALockFlameGraph() throws Exception {
        Path html = ProfilerWorkloads.contending().during(() -> profiler.profile(ProfileKind.LOCK, SHORT, dir.resolve("lock.html")));
        assertThat(Files.readString(html)).contains("contendForProfilerTest").contains("LOCK");
    }

    @Test
    void shouldRefuseASecondProfileWhileOneRunsAndFinishTheFirst() throws Exception {
        Profiler other = new Profiler();
        ProfilerWorkloads.burningCpu().during(() -> {
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<Path> first = threads.submit(() -> profiler.profile(ProfileKind.CPU, Duration.ofSeconds(2), dir.resolve("first.html")));
                await().atMost(Duration.ofSeconds(5)).until(AsyncProfilerTest::asyncProfilerActive);

                assertThatThrownBy(() -> other.profile(ProfileKind.ALLOC, SHORT, dir.resolve("second.html")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("a profile is already running in this JVM");
                assertThat(dir.resolve("second.html")).doesNotExist();
                assertThat(Files.readString(first.get())).contains("burnCpuForProfilerTest");
            }
            return null;
        });
        assertThat(asyncProfilerActive()).isFalse();
    }

    @Test
    void shouldRefuseToProfileWhileSomeoneElseDrivesAsyncProfiler() throws Exception {
        AsyncProfiler.getInstance().execute("start,event=itimer");
        try {
            assertThatThrownBy(() -> profiler.collapsed(ProfileKind.CPU, SHORT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a profile is already running in this JVM");
            assertThat(asyncProfilerActive()).as("the other profile still runs").isTrue();
        } finally {
            AsyncProfiler.getInstance().execute("stop");
        }
    }

    @Test
    void shouldStopTheProfilerWhenInterrupted() throws Exception {
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread caller = Thread.ofVirtual().start(() -> {
            try {
                profiler.profile(ProfileKind.CPU, Duration.ofSeconds(30), dir.resolve("never.html"));
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(AsyncProfilerTest::asyncProfilerActive);
        caller.interrupt();

        assertThat(failure.get()).isInstanceOf(InterruptedException.class);
        assertThat(asyncProfilerActive()).isFalse();
        assertThat(dir.resolve("never.html")).doesNotExist();
    }

    @Test
    void shouldRefuseAPathAsyncProfilerWouldMisread() {
        assertThatThrownBy(() -> profiler.profile(ProfileKind.CPU, SHORT, dir.resolve("a,b.html")))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("a,b.html");
        assertThat(asyncProfilerActive()).isFalse();
    }

    @Test
    void shouldShowASleepingThreadInAWallClockProfile() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Thread sleeper = Thread.ofPlatform().name("sleeper").daemon().start(() -> awaitForWallTest(never));
        try {
            CollapsedStacks stacks = profiler.collapsed(ProfileKind.WALL, SHORT);
            assertThat(stacks.weightOfFramesContaining("awaitForWallTest")).isPositive();
        } finally {
            never.countDown();
            sleeper.join();
        }
    }

    private static void awaitForWallTest(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static boolean asyncProfilerActive() {
        try {
            return !AsyncProfiler.getInstance().execute("status").startsWith("Profiler is not active");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
