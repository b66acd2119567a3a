package io.jcircuit.link;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Gives the CPU to another runnable thread of the operating system, from any thread. For a platform
 * thread that is what {@link Thread#yield()} does; in a virtual thread {@code Thread.yield()} only lets
 * other virtual threads run, and a virtual thread that polls with it keeps its CPU from the event
 * loops it waits for. This calls {@code sched_yield(2)} through the FFM API instead, where libc has it.
 *
 * <p>libc is bound when this class is first used, which in a cold JVM takes tens of milliseconds and
 * about 1.8 MB of memory for the FFM linker's classes: a runtime polls, and so calls this, only once it
 * is busy, after {@link #available} has run on a thread of its own ({@code Waiters} in the runtime).
 */
public final class CpuYield {

    /** libc's {@code sched_yield}, or null where it cannot be bound; a constant, not state. */
    private static final MethodHandle SCHED_YIELD = bind();

    private CpuYield() {
    }

    private static MethodHandle bind() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.downcallHandle(linker.defaultLookup().find("sched_yield").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        } catch (RuntimeException | Error unavailable) {
            return null;
        }
    }

    /**
     * Binds libc's {@code sched_yield} if it is not bound yet (the first call takes a while); returns whether
     * it could be. Where it cannot, {@link #yieldCpu} falls back to {@link Thread#yield()}.
     */
    public static boolean available() {
        return SCHED_YIELD != null;
    }

    /** Yields the CPU of the carrier (or platform) thread running this code. */
    public static void yieldCpu() {
        if (SCHED_YIELD == null || !Thread.currentThread().isVirtual()) {
            Thread.yield();
            return;
        }
        try {
            int ignored = (int) SCHED_YIELD.invokeExact();
        } catch (Throwable t) {
            Thread.yield();
        }
    }
}
