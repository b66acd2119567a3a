package io.jcircuit.runtime.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Threads that keep doing one recognisable thing, in a method whose name a flame graph must show,
 * {@link #during} an action. Each factory returns once every thread has started its work.
 */
final class ProfilerWorkloads {

    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch started;
    private volatile long sink;

    private ProfilerWorkloads(int threadCount) {
        this.started = new CountDownLatch(threadCount);
    }

    /** One platform thread spinning on the CPU in {@link #burnCpuForProfilerTest}. */
    static ProfilerWorkloads burningCpu() throws InterruptedException {
        ProfilerWorkloads w = new ProfilerWorkloads(1);
        return w.start("burner", w::burnCpuForProfilerTest);
    }

    /** One platform thread allocating 4 KiB arrays in {@link #allocateForProfilerTest}. */
    static ProfilerWorkloads allocating() throws InterruptedException {
        ProfilerWorkloads w = new ProfilerWorkloads(1);
        return w.start("allocator", w::allocateForProfilerTest);
    }

    /** Two platform threads taking turns on one monitor in {@link #contendForProfilerTest}, each holding it 500 µs. */
    static ProfilerWorkloads contending() throws InterruptedException {
        ProfilerWorkloads w = new ProfilerWorkloads(2);
        Object monitor = new Object();
        return w.start("contender", () -> w.contendForProfilerTest(monitor));
    }

    private ProfilerWorkloads start(String name, Runnable work) throws InterruptedException {
        for (int i = 0; i < started.getCount(); i++) {
            Thread thread = Thread.ofPlatform().name(name + "-" + i).daemon().unstarted(work);
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        if (!started.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("workload threads did not start");
        }
        return this;
    }

    private void burnCpuForProfilerTest() {
        started.countDown();
        long x = 1;
        while (!stop.get()) {
            for (int i = 0; i < 10_000; i++) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
            sink = x;
        }
    }

    private void allocateForProfilerTest() {
        started.countDown();
        byte[][] kept = new byte[256][];
        int i = 0;
        while (!stop.get()) {
            kept[i++ & 255] = new byte[4096];
        }
        sink = kept[0].length;
    }

    private void contendForProfilerTest(Object monitor) {
        started.countDown();
        while (!stop.get()) {
            synchronized (monitor) {
                spin(500_000);
            }
            // Work outside the monitor lets the other thread take it, instead of one thread winning every time.
            spin(100_000);
        }
    }

    private void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    /** Runs {@code action} while the workload runs, then stops the workload and waits for its threads. */
    <T> T during(Callable<T> action) throws Exception {
        try {
            return action.call();
        } finally {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(10_000);
            }
        }
    }
}
