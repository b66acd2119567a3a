package io.jcircuit.observe;

import io.jcircuit.CallEvent;
import io.jcircuit.CallInterceptor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Keeps every completed call. Registered after the interceptor under test, it sees a call only after
 * that one has finished with it, so a test can wait for the callee side before it looks.
 */
final class CountingInterceptor implements CallInterceptor {

    final List<CallEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void completed(CallEvent event) {
        events.add(event);
    }

    long count(Direction direction, String method) {
        return events.stream().filter(e -> e.direction() == direction && e.method().equals(method)).count();
    }
}
