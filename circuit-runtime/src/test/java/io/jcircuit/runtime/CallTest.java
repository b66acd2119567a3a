package io.jcircuit.runtime;

import io.jcircuit.Circuit;
import io.jcircuit.RemoteException;
import io.jcircuit.runtime.Fixtures.Counter;
import io.jcircuit.runtime.Fixtures.CounterImpl;
import io.jcircuit.runtime.Fixtures.Echo;
import io.jcircuit.runtime.Fixtures.EchoImpl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CallTest {

    @RegisterExtension
    final RuntimesExtension runtimes = new RuntimesExtension();

    @Test
    void shouldCallRemoteMethodAndReturnItsResult() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());

        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThat(echo.echo("hello")).isEqualTo("hello");
        assertThat(echo.whereAmI()).isEqualTo(b.id().toString());
        assertThat(a.homeOf(echo).id()).isEqualTo(b.id());
    }

    @Test
    void shouldCarryCallsInBothDirectionsOverOneLink() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        CounterImpl counter = new CounterImpl();
        Counter ref = a.ref(Counter.class, counter);

        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThat(echo.callCounter(ref, 5)).isEqualTo(5);
        assertThat(counter.get()).isEqualTo(5);
        assertThat(b.peers().session(a.id(), a.address(), System.nanoTime() + 1_000_000_000L).link.dialed()).isFalse();
    }

    @Test
    void shouldCopyArgumentsAndResultsByValue() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        List<String> mine = Fixtures.mutableList("x");

        List<String> returned = echo.appendAndReturn(mine, "y");

        assertThat(returned).containsExactly("x", "y");
        assertThat(mine).containsExactly("x");
    }

    @Test
    void shouldRethrowRemoteExceptionWithOriginalTypeAndRemoteFrames() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.fail("boom"))
            .isExactlyInstanceOf(IllegalStateException.class)
            .hasMessage("boom")
            .satisfies(t -> {
                List<String> frames = java.util.Arrays.stream(t.getStackTrace()).map(StackTraceElement::toString).toList();
                assertThat(frames.getFirst()).contains("EchoImpl.fail");
                assertThat(frames).anyMatch(f -> f.contains("<circuit>"));
                assertThat(frames).anyMatch(f -> f.contains("CallTest"));
            });
    }

    @Test
    void shouldKeepTheCauseChainOfARemoteException() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.failWith(new java.io.IOException("disk")))
            .isExactlyInstanceOf(RuntimeException.class)
            .hasMessage("wrapped")
            .cause().isExactlyInstanceOf(java.io.IOException.class).hasMessage("disk");
    }

    /** A callee that fails with an exception whose message cannot be read, and a call that waits until told. */
    public interface Unreadable {
        void fail();

        String waitForRelease() throws InterruptedException;
    }

    /**
     * README, Errors and Bad input: an exception whose getMessage() throws fails its own call, with a
     * RemoteException that names its class and says its message could not be read; the link, another call
     * in flight on it, references held over it and go functions go on. It used to end the whole link
     * (the callee said goodbye over an "internal error", every call on it failed with WorkerDiedException).
     */
    @Test
    void anExceptionWhoseMessageCannotBeReadFailsItsOwnCallAloneAndSaysSo() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        b.listen("unreadable", Unreadable.class, new Unreadable() {
            @Override
            public void fail() {
                throw new Fixtures.UnreadableMessage(null);
            }

            @Override
            public String waitForRelease() throws InterruptedException {
                entered.countDown();
                release.await();
                return "released";
            }
        });
        b.listen("echo", Echo.class, new EchoImpl());
        Unreadable unreadable = a.dial(b.address(), "unreadable", Unreadable.class);
        Counter held = a.dial(b.address(), "echo", Echo.class).makeCounter();
        java.util.concurrent.CompletableFuture<String> inFlight = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                inFlight.complete(unreadable.waitForRelease());
            } catch (Throwable t) {
                inFlight.completeExceptionally(t);
            }
        });
        assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

        assertThatThrownBy(unreadable::fail).isExactlyInstanceOf(RemoteException.class)
            .hasMessageContaining(Fixtures.UnreadableMessage.class.getName())
            .hasMessageContaining("its message could not be read: getMessage() threw java.lang.NullPointerException")
            .satisfies(t -> assertThat(((RemoteException) t).remoteClassName())
                .isEqualTo(Fixtures.UnreadableMessage.class.getName()));
        assertThatThrownBy(() -> a.worker(b.address()).go(() -> {
            throw new Fixtures.UnreadableMessage(null);
        })).as("a go function that throws one").isExactlyInstanceOf(RemoteException.class)
            .hasMessageContaining("its message could not be read");

        release.countDown();
        assertThat(inFlight.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("another call in flight on the link")
            .isEqualTo("released");
        assertThat(held.add(1)).as("a reference held over the link").isEqualTo(1);
    }

    public interface Service {
        String serve(int i, Listener l) throws InterruptedException;
    }

    public interface Listener {
        String heard(int i);
    }

    /**
     * README, Links: the incoming limit pushes back on that peer alone, and a callee that blocks holds up
     * nothing else on the link. B makes as many calls to A as A's limit, and each calls back a listener on
     * B before it answers. A used to stop reading from B once it ran that many, answers included, so
     * the callbacks' answers never came and every call failed at its deadline.
     */
    @Test
    void callbacksDoNotDeadlockWhenAPeerRunsAsManyCallsAsItsIncomingLimit() throws Exception {
        int limit = 4;
        CircuitRuntime a = runtimes.start(c -> c.maxIncomingCallsPerLink(limit));
        CircuitRuntime b = runtimes.start();
        Listener listener = b.ref(Listener.class, i -> "heard " + i);
        java.util.concurrent.CountDownLatch allIn = new java.util.concurrent.CountDownLatch(limit);
        a.listen("service", Service.class, (i, l) -> {
            allIn.countDown();
            allIn.await(); // all of them run at once, as under load
            return l.heard(i);
        });
        Service service = b.dial(a.address(), "service", Service.class);

        List<java.util.concurrent.Future<String>> calls = new java.util.ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < limit; i++) {
                int n = i;
                calls.add(threads.submit(() -> io.jcircuit.Deadline.within(java.time.Duration.ofSeconds(5),
                    () -> service.serve(n, listener))));
            }
            for (int i = 0; i < limit; i++) {
                assertThat(calls.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("heard " + i);
            }
        }
    }

    public interface Gated {
        String pass(int i) throws InterruptedException;
    }

    /** Past the incoming limit a peer's requests wait their turn on the callee, and each runs once a slot frees. */
    @Test
    void pastTheIncomingLimitAPeersRequestsWaitTheirTurnAndAllRun() throws Exception {
        int limit = 2;
        int calls = 6;
        CircuitRuntime a = runtimes.start(c -> c.maxIncomingCallsPerLink(limit));
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        a.listen("gated", Gated.class, i -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                gate.await();
            } finally {
                running.decrementAndGet();
            }
            return "passed " + i;
        });
        Gated gated = b.dial(a.address(), "gated", Gated.class);
        PeerSession fromB = a.peers().session(b.id(), b.address(), System.nanoTime() + 10_000_000_000L);

        List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < calls; i++) {
                int n = i;
                results.add(threads.submit(() -> gated.pass(n)));
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> fromB.incomingInFlight() == calls && running.get() == limit);
            assertThat(io.jcircuit.Deadline.within(java.time.Duration.ofSeconds(5),
                () -> a.dial(b.address(), "echo", Echo.class).echo("x")))
                .as("a's own call to b, whose answer comes on the same link").isEqualTo("x");
            gate.countDown();
            for (int i = 0; i < calls; i++) {
                assertThat(results.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("passed " + i);
            }
        }
        assertThat(most.get()).as("calls from b that ran at once on a").isEqualTo(limit);
    }

    /** A callee whose own wait was interrupted. */
    public interface Waits {
        String waitUp() throws InterruptedException;
    }

    @Test
    void shouldRethrowACalleesInterruptedExceptionWithoutInterruptingTheCaller() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        java.util.concurrent.atomic.AtomicBoolean interruptNext = new java.util.concurrent.atomic.AtomicBoolean(true);
        b.listen("waits", Waits.class, () -> {
            if (interruptNext.getAndSet(false)) {
                throw new InterruptedException("the callee's own wait");
            }
            return "done";
        });
        Waits waits = a.dial(b.address(), "waits", Waits.class);

        // before, the caller took it for its own interrupt: a CircuitException, the caller's interrupt
        // flag set, and its next call failed at once
        assertThatThrownBy(waits::waitUp).isExactlyInstanceOf(InterruptedException.class).hasMessage("the callee's own wait");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThat(waits.waitUp()).isEqualTo("done");
    }

    /** A callee that gives up on a deadline, as a runtime does that stops waiting for a future. */
    public interface Late {
        void late();
    }

    @Test
    void shouldRethrowACalleesDeadlineExceededAsTheCallersOwn() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("late", Late.class, () -> {
            throw new io.jcircuit.DeadlineExceededException(Circuit.current().id(), "not done by the caller's deadline");
        });
        Late late = a.dial(b.address(), "late", Late.class);

        // no constructor of it takes a message alone: it arrived as a RemoteException, or not, by a race
        assertThatThrownBy(late::late).isExactlyInstanceOf(io.jcircuit.DeadlineExceededException.class)
            .hasMessage("not done by the caller's deadline")
            .satisfies(t -> assertThat(((io.jcircuit.DeadlineExceededException) t).worker()).isEqualTo(b.id()));
    }

    @Test
    void shouldThrowRemoteExceptionWhenTheExceptionClassCannotBeLoaded() {
        ClassLoader hiding = new ClassLoader(CallTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.equals(IllegalStateException.class.getName())) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        };
        CircuitRuntime a = runtimes.start(c -> c.classLoader(hiding));
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        assertThatThrownBy(() -> echo.fail("unknown here"))
            .isExactlyInstanceOf(RemoteException.class)
            .satisfies(t -> {
                RemoteException re = (RemoteException) t;
                assertThat(re.remoteClassName()).isEqualTo("java.lang.IllegalStateException");
                assertThat(re.remoteMessage()).isEqualTo("unknown here");
                assertThat(re.getStackTrace()[0].toString()).contains("EchoImpl.fail");
            });
    }

    /** The name of the class {@link #unknownElsewhere} makes. */
    static final String ONLY_HERE = "io.jcircuit.runtime.generated.OnlyHere";

    /**
     * An instance of a class made at run time in a class loader of its own: no other runtime in this JVM
     * can load it, as a JVM with other code could not.
     */
    static Object unknownElsewhere() {
        try {
            return onlyHereLoader().loadClass(ONLY_HERE).getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A class loader of its own that defines {@link #ONLY_HERE}, once; a runtime given it can read such values. */
    static ClassLoader onlyHereLoader() {
        java.lang.constant.ClassDesc self = java.lang.constant.ClassDesc.of(ONLY_HERE);
        byte[] bytes = java.lang.classfile.ClassFile.of().build(self, cb -> cb
            .withFlags(java.lang.classfile.ClassFile.ACC_PUBLIC)
            .withInterfaceSymbols(java.lang.constant.ClassDesc.of("java.io.Serializable"))
            .withMethodBody(java.lang.constant.ConstantDescs.INIT_NAME, java.lang.constant.ConstantDescs.MTD_void,
                java.lang.classfile.ClassFile.ACC_PUBLIC, code -> code.aload(0)
                    .invokespecial(java.lang.constant.ConstantDescs.CD_Object, java.lang.constant.ConstantDescs.INIT_NAME,
                        java.lang.constant.ConstantDescs.MTD_void)
                    .return_()));
        return new ClassLoader(CallTest.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                if (name.equals(ONLY_HERE)) {
                    return defineClass(name, bytes, 0, bytes.length);
                }
                throw new ClassNotFoundException(name);
            }
        };
    }

    /** Values of a class the other side may lack, and a call to keep in flight beside them. */
    public interface Values {
        Object secret();

        String nameOf(Object value);

        String waitForOpen() throws InterruptedException;
    }

    /** Serves {@link Values}; {@code waitForOpen} returns once {@code open} is released. */
    private static final class ValuesImpl implements Values {
        final java.util.concurrent.CountDownLatch open = new java.util.concurrent.CountDownLatch(1);

        @Override
        public Object secret() {
            return unknownElsewhere();
        }

        @Override
        public String nameOf(Object value) {
            return value.getClass().getSimpleName();
        }

        @Override
        public String waitForOpen() throws InterruptedException {
            open.await();
            return "answered";
        }
    }

    @Test
    void shouldFailOnlyTheCallWhoseAnswerHoldsAClassTheCallerLacks() throws Exception {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        ValuesImpl served = new ValuesImpl();
        b.listen("values", Values.class, served);
        Values values = a.dial(b.address(), "values", Values.class);
        java.util.concurrent.CompletableFuture<String> inFlight =
            java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return values.waitForOpen();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });

        // before: "malformed message", the link closed, and the call in flight failed with it
        assertThatThrownBy(values::secret).isInstanceOf(io.jcircuit.UnreadableValueException.class)
            .hasMessageContaining(ONLY_HERE + ", which this runtime cannot load");
        served.open.countDown();
        assertThat(inFlight.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("answered");
        assertThat(values.nameOf("text")).isEqualTo("String");
    }

    @Test
    void shouldFailOnlyTheCallWhoseArgumentIsOfAClassTheCalleeLacks() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("values", Values.class, new ValuesImpl());
        Values values = a.dial(b.address(), "values", Values.class);

        // before: "malformed message", and the callee closed the link
        assertThatThrownBy(() -> values.nameOf(unknownElsewhere())).isInstanceOf(io.jcircuit.UnreadableValueException.class)
            .hasMessageContaining("could not decode the request").hasMessageEndingWith("it was not run")
            .hasMessageContaining(ONLY_HERE + ", which this runtime cannot load");
        assertThat(values.nameOf(List.of())).isEqualTo("ListN");
    }

    /** A value that checks itself as it is read, as a class with invariants does. */
    public static final class Positive implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final int value;

        public Positive(int value) {
            this.value = value; // unchecked here: the reader checks
        }

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            if (value < 0) {
                throw new java.io.InvalidObjectException("negative: " + value);
            }
        }
    }

    /** The bound {@link Bounded}'s constructor checks, changed by a test after it has made its values. */
    static final java.util.concurrent.atomic.AtomicInteger BOUND = new java.util.concurrent.atomic.AtomicInteger(Integer.MAX_VALUE);

    /** A record that checks its invariant in its constructor, as records do: a reader with a lower bound refuses it. */
    public record Bounded(int x) implements java.io.Serializable {
        public Bounded {
            if (x > BOUND.get()) {
                throw new IllegalArgumentException("x=" + x + " above " + BOUND.get());
            }
        }
    }

    /**
     * A record whose constructor refuses a value as the receiver reads it fails that call alone, in either
     * direction (a probe found the link, every reference over it and the worker taken down, as for a
     * malformed message).
     */
    @Test
    void aRecordWhoseConstructorRefusesTheValueAsItIsReadFailsThatCallAlone() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Bounded made = new Bounded(10);
        b.listen("any", Any.class, echoing(value -> made)); // made before the bound went down: only its reader refuses it
        b.listen("echo", Fixtures.Echo.class, new Fixtures.EchoImpl());
        Any any = a.dial(b.address(), "any", Any.class);
        Fixtures.Counter counter = a.dial(b.address(), "echo", Fixtures.Echo.class).makeCounter();
        assertThat(counter.add(1)).isEqualTo(1);
        try {
            BOUND.set(5);
            assertThatThrownBy(() -> any.echo(made)).isInstanceOf(io.jcircuit.UnreadableValueException.class)
                .hasMessageContaining("could not decode the request").hasMessageContaining("x=10 above 5");
            assertThat(counter.add(1)).isEqualTo(2);
            assertThatThrownBy(() -> any.make(0)).isInstanceOf(io.jcircuit.UnreadableValueException.class)
                .hasMessageContaining("the answer to").hasMessageContaining("x=10 above 5");
            assertThat(counter.add(1)).isEqualTo(3);
        } finally {
            BOUND.set(Integer.MAX_VALUE);
        }
        assertThat(any.echo(made)).isEqualTo(made);
    }

    /** Addresses go both ways whole, over a link and to a local reference (a probe's loopback address took the link down). */
    @Test
    void internetAddressesGoWholeToARemoteAndALocalReference() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Any echo = echoing(value -> new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), value));
        b.listen("any", Any.class, echo);
        java.net.InetSocketAddress address = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 7);
        for (Any any : List.of(a.dial(b.address(), "any", Any.class), b.ref(Any.class, echo))) {
            assertThat(any.echo(address)).isEqualTo(address).hasToString(address.toString());
            assertThat(any.make(9)).hasToString(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 9).toString());
        }
    }

    /** An {@link Any} that echoes what it takes, and makes what {@code make} gives. */
    private static Any echoing(java.util.function.IntFunction<Object> make) {
        return new Any() {
            @Override
            public Object echo(Object o) {
                return o;
            }

            @Override
            public Object make(int value) {
                return make.apply(value);
            }
        };
    }

    /** Takes and makes values of any class. */
    public interface Any {
        Object echo(Object o);

        Object make(int value);
    }

    /** A strategy enum: its constants with bodies are subclasses of it. */
    public enum Op {
        PLUS { @Override public int apply(int a, int b) { return a + b; } },
        TIMES { @Override public int apply(int a, int b) { return a * b; } };

        public abstract int apply(int a, int b);
    }

    @Test
    void aValueItsClassRefusesAsItIsReadFailsThatCallAloneInEitherDirection() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("any", Any.class, echoing(Positive::new));
        b.listen("echo", Fixtures.Echo.class, new Fixtures.EchoImpl());
        Any any = a.dial(b.address(), "any", Any.class);
        Fixtures.Counter counter = a.dial(b.address(), "echo", Fixtures.Echo.class).makeCounter(); // held over the session
        assertThat(counter.add(1)).isEqualTo(1);

        // before: "malformed message", and the receiver ended the session: the counter was gone for good
        assertThatThrownBy(() -> any.echo(new Positive(-1))).isInstanceOf(io.jcircuit.UnreadableValueException.class)
            .hasMessageContaining("could not decode the request").hasMessageContaining("refused to be read")
            .hasMessageContaining("negative: -1");
        assertThat(counter.add(1)).isEqualTo(2);
        assertThatThrownBy(() -> any.make(-2)).isInstanceOf(io.jcircuit.UnreadableValueException.class)
            .hasMessageContaining("the answer to").hasMessageContaining("negative: -2");
        assertThat(counter.add(1)).isEqualTo(3);
        assertThat(((Positive) any.make(5)).value).isEqualTo(5);
        // an EnumSet of constants with bodies (before: "not an enum", and the session ended)
        assertThat(any.echo(java.util.EnumSet.of(Op.TIMES))).isEqualTo(java.util.EnumSet.of(Op.TIMES));
        assertThat(counter.add(1)).isEqualTo(4);
    }

    /** Methods that take a variable number of arguments. */
    public interface Joiner {
        String join(String... parts);

        String count(int first, Object... rest);
    }

    @Test
    void shouldPassVariableArgumentsAsTheLocalCallDoes() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Joiner local = new Joiner() {
            @Override
            public String join(String... parts) {
                return parts == null ? "null" : parts.length + List.of(parts).toString();
            }

            @Override
            public String count(int first, Object... rest) {
                return first + ":" + rest.length;
            }
        };
        b.listen("joiner", Joiner.class, local);
        Joiner remote = a.dial(b.address(), "joiner", Joiner.class);

        // before: ClassCastException (the array collected again), and rest arrived wrapped in another array
        for (Joiner j : List.of(local, remote)) {
            assertThat(j.join()).isEqualTo("0[]");
            assertThat(j.join("a", "b")).isEqualTo("2[a, b]");
            assertThat(j.join((String[]) null)).isEqualTo("null");
            assertThat(j.count(1)).isEqualTo("1:0");
            assertThat(j.count(1, "x", null, new int[] {3})).isEqualTo("1:3");
        }
    }

    @Test
    void shouldRefuseNullsBeforeAnythingIsSent() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        io.jcircuit.Worker w = a.worker(b.address());

        // before: a null service name crashed the JVM in Fory's string writer
        assertThatThrownBy(() -> w.dial(null, Echo.class)).isInstanceOf(NullPointerException.class).hasMessage("service");
        assertThatThrownBy(() -> w.tryDial(null, Echo.class)).isInstanceOf(NullPointerException.class).hasMessage("service");
        assertThatThrownBy(() -> w.dial("echo", null)).isInstanceOf(NullPointerException.class).hasMessage("iface");
        assertThatThrownBy(() -> w.go(null)).isInstanceOf(NullPointerException.class).hasMessage("fn");
    }

    /**
     * Entries the codec cannot carry (a null value, more than {@link io.jcircuit.codec.MessageCodec#MAX_CONTEXT_ENTRIES})
     * are dropped with a warning, and the call goes with the rest: instrumentation never fails a call (it failed,
     * blaming its arguments).
     */
    @Test
    void aContextTheCodecCannotCarryIsCutToWhatItCanAndTheCallGoes() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        java.util.Map<String, String> arrived = new java.util.concurrent.ConcurrentHashMap<>();
        b.intercept(new io.jcircuit.CallInterceptor() {
            @Override
            public Object incoming(CallInfo call, java.util.Map<String, String> context, Proceed proceed) throws Throwable {
                arrived.putAll(context);
                return proceed.proceed();
            }
        });
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        a.intercept(new io.jcircuit.CallInterceptor() {
            @Override
            public void outgoing(CallInfo call, java.util.Map<String, String> context) {
                context.put("tenant", null); // before the first fix the JVM crashed in Fory's string writer
                for (int i = 0; i <= io.jcircuit.codec.MessageCodec.MAX_CONTEXT_ENTRIES; i++) {
                    context.put("k" + i, "v");
                }
            }
        });

        assertThat(echo.echo("x")).isEqualTo("x");
        assertThat(arrived).hasSize(io.jcircuit.codec.MessageCodec.MAX_CONTEXT_ENTRIES).containsEntry("k0", "v")
            .doesNotContainKey("tenant").doesNotContainKey("k" + io.jcircuit.codec.MessageCodec.MAX_CONTEXT_ENTRIES);
    }

    /**
     * An error an interceptor throws (not only an exception) is logged and the call goes on: a {@link
     * NoClassDefFoundError} of an optional dependency in outgoing, an {@link AssertionError} in completed (each
     * failed the call).
     */
    @Test
    void anErrorThrownByACallersInterceptorDoesNotFailTheCall() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        a.intercept(new io.jcircuit.CallInterceptor() {
            @Override
            public void outgoing(CallInfo call, java.util.Map<String, String> context) {
                throw new NoClassDefFoundError("io/opentelemetry/api/trace/Span");
            }

            @Override
            public void completed(io.jcircuit.CallEvent event) {
                throw new AssertionError("instrumentation bug");
            }
        });
        b.listen("echo", Echo.class, new EchoImpl());

        Echo echo = a.worker(b.address()).tryDial("echo", Echo.class).orElseThrow();
        assertThat(echo.echo("x")).isEqualTo("x");
    }

    /**
     * Calls to a peer that has died fail at once, each one a call the interceptors and the metrics hear of
     * as FAILED (none was: the session was looked up before outgoing).
     */
    @Test
    void callsToAPeerThatHasDiedAreCompletedAsFailed() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        Fixtures.Recorder recorder = new Fixtures.Recorder();
        a.intercept(recorder);
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);
        assertThat(echo.echo("x")).isEqualTo("x");
        b.close();

        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> echo.echo("y")).isInstanceOf(io.jcircuit.WorkerDiedException.class);
        }
        assertThat(recorder.outcomes("Echo.echo(String)")).containsExactly(io.jcircuit.CallEvent.Outcome.OK,
            io.jcircuit.CallEvent.Outcome.FAILED, io.jcircuit.CallEvent.Outcome.FAILED, io.jcircuit.CallEvent.Outcome.FAILED);
        assertThat(recorder.outgoing).filteredOn("Echo.echo(String)"::equals).hasSize(4);
    }

    /** Returns a string of {@code n} characters. */
    public interface Blob {
        String of(int n);
    }

    /**
     * An answer above the frame limit is not sent (a failure goes in its place): the callee counts that call
     * FAILED, as the caller does not get its answer (it was counted OK).
     */
    @Test
    void anAnswerThatCouldNotBeSentIsCountedFailedOnTheCallee() {
        CircuitRuntime a = runtimes.start(c -> c.maxFrameBytes(64 * 1024));
        CircuitRuntime b = runtimes.start(c -> c.maxFrameBytes(64 * 1024));
        Fixtures.Recorder served = new Fixtures.Recorder();
        b.intercept(served);
        b.listen("blob", Blob.class, n -> "x".repeat(n));
        Blob blob = a.dial(b.address(), "blob", Blob.class);

        assertThatThrownBy(() -> blob.of(128 * 1024)).isInstanceOf(io.jcircuit.FrameTooLargeException.class);
        assertThat(blob.of(3)).isEqualTo("xxx");
        // the callee's completed runs after its answer went: the two may come in either order
        org.awaitility.Awaitility.await().untilAsserted(() -> assertThat(served.outcomes("Blob.of(int)"))
            .containsExactlyInAnyOrder(io.jcircuit.CallEvent.Outcome.FAILED, io.jcircuit.CallEvent.Outcome.OK));
        assertThat(b.callMetrics().snapshot()).filteredOn(c -> c.method().equals("Blob.of(int)")).singleElement()
            .satisfies(c -> assertThat(c.failed()).isEqualTo(1)).satisfies(c -> assertThat(c.calls()).isEqualTo(2));
    }

    @Test
    void shouldExposeTheRunningRuntimeToCallees() {
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start();
        b.listen("echo", Echo.class, new EchoImpl());
        Echo echo = a.dial(b.address(), "echo", Echo.class);

        Counter made = echo.makeCounter();

        assertThat(a.homeOf(made).id()).isEqualTo(b.id());
        assertThat(made.add(3)).isEqualTo(3);
        assertThatThrownBy(Circuit::current).isInstanceOf(java.util.NoSuchElementException.class);
    }

    /** Reports what the calling thread looked like on entry, then leaves its interrupt flag set. */
    public interface ThreadProbe {
        long[] enter();
    }

    @Test
    void shouldStartEveryCallWithAClearInterruptFlagWhenCallThreadsServeSeveralCalls() {
        // a long polling budget, so that the thread that answered one call nearly always takes the next
        CircuitRuntime a = runtimes.start();
        CircuitRuntime b = runtimes.start(c -> c.link().spinMicros(io.jcircuit.link.LinkConfig.MAX_SPIN_MICROS));
        b.listen("probe", ThreadProbe.class, () -> {
            long[] seen = {Thread.currentThread().threadId(), Thread.currentThread().isInterrupted() ? 1 : 0,
                Thread.currentThread().isVirtual() ? 1 : 0};
            Thread.currentThread().interrupt();
            return seen;
        });
        ThreadProbe probe = a.dial(b.address(), "probe", ThreadProbe.class);

        java.util.Set<Long> threads = new java.util.HashSet<>();
        int first = Waiters.POLL_AFTER; // call threads linger only once the runtime is busy
        for (int i = 0; i < first + 200; i++) {
            long[] seen = probe.enter();
            assertThat(seen[1]).as("interrupted on entry to call %d", i).isZero();
            assertThat(seen[2]).as("call %d ran on a virtual thread", i).isEqualTo(1);
            if (i >= first) {
                threads.add(seen[0]);
            }
        }
        assertThat(threads).as("threads that served 200 calls in a row").hasSizeLessThan(200);
    }

    public interface GatedPass {
        String pass(int i) throws InterruptedException;
    }

    /**
     * A call that reaches a closing runtime and is not run there is known as not run, also one that waited
     * for a slot past the peer's incoming limit: the close refuses it before its goodbye (found by the
     * review: it was dropped with the session, its outcome unknown).
     */
    @Test
    void aParkedRequestDroppedByACloseIsKnownAsNotRun() throws Exception {
        CircuitRuntime old = runtimes.start(c -> c.maxIncomingCallsPerLink(1));
        CircuitRuntime client = runtimes.start();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        old.listen("gated", GatedPass.class, i -> {
            entered.countDown();
            release.await();
            return "passed " + i;
        });
        GatedPass gated = client.dial(old.address(), "gated", GatedPass.class);
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            threads.submit(() -> org.assertj.core.api.Assertions.catchThrowable(() -> io.jcircuit.Deadline.within(java.time.Duration.ofSeconds(30), () -> gated.pass(1))));
            assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            var second = threads.submit(() -> org.assertj.core.api.Assertions.catchThrowable(() -> io.jcircuit.Deadline.within(java.time.Duration.ofSeconds(30), () -> gated.pass(2))));
            PeerSession fromClient = old.peers().session(client.id(), client.address(), System.nanoTime() + 10_000_000_000L);
            org.awaitility.Awaitility.await().until(() -> fromClient.incomingInFlight() == 2); // the second waits for the first's slot

            old.close();
            release.countDown();

            Throwable t = second.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(t).isInstanceOf(io.jcircuit.WorkerDiedException.class);
            assertThat(((io.jcircuit.WorkerDiedException) t).outcomeUnknown()).as("never run: " + t.getMessage()).isFalse();
        }
    }
}
