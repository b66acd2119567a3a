package io.jcircuit.test;

import io.jcircuit.Circuit;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A flood of calls to a slow callee, from a worker JVM with a small heap and little direct memory:
 * 8,000 callers at once, each sending 16 KiB per call, would need about 128 MiB of encoded requests
 * in flight, twice what the worker may allocate. Bounded in-flight calls per link make the callers
 * wait instead, so the flood completes, and the callee never sees more at once than the bound.
 */
@Tag("slow")
class BackPressureTest {

    static final int CALLERS = 8_000;
    static final int CALLS_EACH = 2;
    static final int PAYLOAD = 16 * 1024;
    /** {@code RuntimeConfig}'s default bound on calls waiting for answers per link. */
    static final int OUTGOING_BOUND = 1024;

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    public interface Sink {
        void take(byte[] data);
    }

    /** Slow on purpose, and counts how many calls it runs at once. */
    static final class SlowSink implements Sink {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();
        final AtomicLong taken = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();

        @Override
        public void take(byte[] data) {
            most.accumulateAndGet(now.incrementAndGet(), Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                now.decrementAndGet();
            }
            taken.incrementAndGet();
            bytes.addAndGet(data.length);
        }
    }

    /** Runs in the worker: every caller sends its calls, all at once. Returns the calls made. */
    static long flood(Sink sink) throws InterruptedException {
        byte[] payload = new byte[PAYLOAD]; // one array for all: only what the circuit holds per call grows
        AtomicLong done = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < CALLERS; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                for (int c = 0; c < CALLS_EACH; c++) {
                    sink.take(payload);
                    done.incrementAndGet();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return done.get();
    }

    @Test
    void shouldSlowAFloodingCallerDownInsteadOfGrowingItsMemory(Circuit client) {
        SlowSink slow = new SlowSink();
        Sink sink = client.ref(Sink.class, slow);

        Spawned<Long> s = client.spawn("host-1", List.of(), () -> flood(sink),
            SpawnOptions.defaults().withMaxHeapMb(64).withJvmArgs("-XX:MaxDirectMemorySize=64m"));

        assertThat(s.result()).isEqualTo((long) CALLERS * CALLS_EACH);
        assertThat(slow.taken.get()).isEqualTo((long) CALLERS * CALLS_EACH);
        assertThat(slow.bytes.get()).isEqualTo((long) CALLERS * CALLS_EACH * PAYLOAD);
        assertThat(slow.most.get()).as("calls in flight at once, bounded per link")
            .isLessThanOrEqualTo(OUTGOING_BOUND).isGreaterThan(CALLERS / 100);
    }
}
