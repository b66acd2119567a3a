package io.jcircuit.runtime;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Interfaces and objects the runtime tests call. */
final class Fixtures {

    private Fixtures() {
    }

    public interface Counter {
        int add(int delta);

        int get();

        default int addTwice(int delta) {
            add(delta);
            return add(delta);
        }
    }

    static class CounterImpl implements Counter {
        final AtomicInteger value = new AtomicInteger();

        @Override
        public int add(int delta) {
            return value.addAndGet(delta);
        }

        @Override
        public int get() {
            return value.get();
        }
    }

    public record Box(String label, Counter counter, List<Counter> list, Map<String, Counter> map, Set<Counter> set)
        implements Serializable {
    }

    public interface Echo {
        String echo(String s);

        List<String> appendAndReturn(List<String> list, String item);

        Box passBox(Box box);

        Counter makeCounter();

        int callCounter(Counter c, int delta);

        void fail(String message);

        void failWith(Exception e);

        String block(long millis) throws InterruptedException;

        Long remainingDeadlineMillis();

        String whereAmI();

        void keep(Counter c);
    }

    static final class EchoImpl implements Echo {
        final CountDownLatch entered = new CountDownLatch(1);
        volatile Counter kept;

        @Override
        public void keep(Counter c) {
            kept = c;
        }

        @Override
        public String echo(String s) {
            return s;
        }

        @Override
        public List<String> appendAndReturn(List<String> list, String item) {
            list.add(item);
            return list;
        }

        @Override
        public Box passBox(Box box) {
            return box;
        }

        @Override
        public Counter makeCounter() {
            return io.jcircuit.Circuit.current().ref(Counter.class, new CounterImpl());
        }

        @Override
        public int callCounter(Counter c, int delta) {
            return c.add(delta);
        }

        @Override
        public void fail(String message) {
            throw new IllegalStateException(message);
        }

        @Override
        public void failWith(Exception e) {
            throw new RuntimeException("wrapped", e);
        }

        @Override
        public String block(long millis) throws InterruptedException {
            entered.countDown();
            Thread.sleep(millis); // the callee's work; tests never wait on it with a sleep of their own
            return "slept " + millis;
        }

        @Override
        public Long remainingDeadlineMillis() {
            return io.jcircuit.Deadline.remainingNanos().stream().mapToObj(n -> TimeUnit.NANOSECONDS.toMillis(n))
                .findFirst().orElse(null);
        }

        @Override
        public String whereAmI() {
            return io.jcircuit.Circuit.current().id().toString();
        }
    }

    /**
     * An exception whose {@code getMessage()} throws, as one that formats a field that happens to be
     * null does ({@code "error " + code.toString()}).
     */
    public static final class UnreadableMessage extends RuntimeException {
        private final Object code;

        public UnreadableMessage(Object code) {
            this.code = code;
        }

        @Override
        public String getMessage() {
            return "error " + code.toString(); // NullPointerException when code is null
        }
    }

    static List<String> mutableList(String... items) {
        return new ArrayList<>(List.of(items));
    }

    /** Records what every call crossing runtimes told the interceptors: outgoing's methods, completed's events. */
    static final class Recorder implements io.jcircuit.CallInterceptor {
        final List<String> outgoing = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<io.jcircuit.CallEvent> completed = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void outgoing(CallInfo call, Map<String, String> context) {
            outgoing.add(call.method());
        }

        @Override
        public void completed(io.jcircuit.CallEvent event) {
            completed.add(event);
        }

        /** The outcomes of {@code method}'s calls, in the order they completed. */
        List<io.jcircuit.CallEvent.Outcome> outcomes(String method) {
            return completed.stream().filter(e -> e.method().equals(method)).map(io.jcircuit.CallEvent::outcome).toList();
        }
    }
}
