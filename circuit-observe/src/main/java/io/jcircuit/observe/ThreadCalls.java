package io.jcircuit.observe;

import io.jcircuit.CallInterceptor.CallInfo;
import io.jcircuit.CallInterceptor.Direction;
import io.jcircuit.WorkerId;

import java.util.ArrayList;

/**
 * The calls a thread has begun in one hook ({@code outgoing} on the caller, {@code incoming} on the
 * callee) and will finish in {@code completed}, which the runtime runs later on the same thread.
 *
 * <p>A stack, not one slot: a call can start inside another on the same thread (a callee calling on,
 * or the runtime acquiring a reference it found while decoding an answer), and those finish first.
 * {@link #take} looks for the newest entry with the same direction, peer and method and drops what
 * lies above it: an entry whose {@code completed} never came here, because the interceptor was removed
 * or the value was not worth keeping then, must not hold the stack up. The depth is capped, oldest
 * entries dropped first, so a thread that keeps missing {@code completed} cannot grow it.
 *
 * <p><b>Note:</b> {@link ThreadLocal#get} makes a thread's map even when it finds nothing, so callers
 * go through here only when they have something to keep or to look for.
 */
final class ThreadCalls<T> {

    static final int MAX_DEPTH = 64;

    private final ThreadLocal<ArrayList<Entry<T>>> stacks = new ThreadLocal<>();

    private record Entry<T>(Direction direction, WorkerId peer, String method, T value) {
    }

    /** Remembers {@code value} for {@code call} on this thread. */
    void push(CallInfo call, T value) {
        ArrayList<Entry<T>> stack = stacks.get();
        if (stack == null) {
            stack = new ArrayList<>(4);
            stacks.set(stack);
        } else if (stack.size() == MAX_DEPTH) {
            stack.removeFirst();
        }
        stack.add(new Entry<>(call.direction(), call.peer(), call.method(), value));
    }

    /** The value this thread pushed for the call that just ended, or null when it pushed none. */
    T take(Direction direction, WorkerId peer, String method) {
        ArrayList<Entry<T>> stack = stacks.get();
        if (stack == null) {
            return null;
        }
        for (int i = stack.size() - 1; i >= 0; i--) {
            Entry<T> e = stack.get(i);
            if (e.direction() == direction && e.peer().equals(peer) && e.method().equals(method)) {
                stack.subList(i, stack.size()).clear();
                if (stack.isEmpty()) {
                    stacks.remove();
                }
                return e.value();
            }
        }
        return null;
    }

    /** How many calls this thread holds; for tests. */
    int depth() {
        ArrayList<Entry<T>> stack = stacks.get();
        return stack == null ? 0 : stack.size();
    }
}
