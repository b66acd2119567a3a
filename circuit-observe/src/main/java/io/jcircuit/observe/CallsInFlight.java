package io.jcircuit.observe;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor.CallInfo;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.WorkerId;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What an interceptor began for the calls in flight, in the hook that starts a call ({@code outgoing}
 * on the caller, {@code incoming} on the callee), found again in {@code completed} by the call itself:
 * its direction, peer and {@linkplain CallInfo#callId() call id}. Not by thread: an asynchronous call
 * completes on the thread that settles it, not on the one that made or served it.
 *
 * <p>Bounded: an entry whose {@code completed} never comes here (the interceptor was removed
 * meanwhile, or the value was not worth keeping then) must not stay for ever. At
 * {@value #MAX_CALLS} entries, the older half is dropped; the {@code completed} of a call dropped so
 * finds nothing, as that of a call begun before the interceptor was added does.
 *
 * <p><b>Threading.</b> Any thread may put and take; {@link #take} is one volatile read when nothing
 * is in flight.
 */
final class CallsInFlight<T> {

    /** The most calls kept; far more than a runtime has in flight (its links bound their calls). */
    static final int MAX_CALLS = 1 << 16;

    private final ConcurrentHashMap<Key, Entry<T>> calls = new ConcurrentHashMap<>();
    private final ReentrantLock sweeping = new ReentrantLock();

    private record Key(Direction direction, WorkerId peer, long callId) {
    }

    private record Entry<T>(T value, long sinceNanos) {
    }

    /** Remembers {@code value} for {@code call} until its {@code completed}. */
    void put(CallInfo call, T value) {
        if (calls.size() >= MAX_CALLS) {
            dropOlderHalf();
        }
        calls.put(new Key(call.direction(), call.peer(), call.callId()), new Entry<>(value, System.nanoTime()));
    }

    /** The value put for the call that just ended, or null when none was. */
    T take(CallEvent e) {
        if (calls.isEmpty()) {
            return null;
        }
        Entry<T> entry = calls.remove(new Key(e.direction(), e.peer(), e.callId()));
        return entry == null ? null : entry.value();
    }

    /** How many calls are kept; for tests. */
    int size() {
        return calls.size();
    }

    /** One thread sweeps; the others go on meanwhile (the map may pass its bound by a few entries). */
    private void dropOlderHalf() {
        if (!sweeping.tryLock()) {
            return;
        }
        try {
            long[] since = calls.values().stream().mapToLong(Entry::sinceNanos).toArray();
            if (since.length < MAX_CALLS) {
                return; // another thread swept
            }
            Arrays.sort(since);
            long median = since[since.length / 2];
            calls.values().removeIf(entry -> entry.sinceNanos() <= median);
        } finally {
            sweeping.unlock();
        }
    }
}
