package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.Fn;
import io.jcircuit.RemoteException;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageCodecTest {

    public interface Greeter {
        String greet(String name);
    }

    /** A stand-in for the runtime's handler: just carries its descriptor. */
    static final class Handler implements InvocationHandler {
        final RefDescriptor d;

        Handler(RefDescriptor d) {
            this.d = d;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return "via " + d.handle();
        }
    }

    record TestWorker(WorkerId id, Address address) implements Worker {
        @Override
        public <R> R go(Fn<R> fn) {
            throw new UnsupportedOperationException("test worker");
        }

        @Override
        public <T> T dial(String service, Class<T> iface) {
            throw new UnsupportedOperationException("test worker");
        }

        @Override
        public <T> Optional<T> tryDial(String service, Class<T> iface) {
            return Optional.empty();
        }

        @Override
        public void kill() {
            throw new UnsupportedOperationException("test worker");
        }

        @Override
        public void onExit(Runnable action) {
            throw new UnsupportedOperationException("test worker");
        }
    }

    record Holder(String name, List<Greeter> greeters, Map<String, Greeter> byName, Worker worker) {
    }

    private final References refs = new References() {
        @Override
        public Class<? extends InvocationHandler> handlerType() {
            return Handler.class;
        }

        @Override
        public RefDescriptor describe(InvocationHandler handler, io.jcircuit.WorkerId to, boolean permanent,
                                      java.util.function.LongConsumer counted) {
            return ((Handler) handler).d;
        }

        @Override
        public InvocationHandler handlerFor(RefDescriptor descriptor, io.jcircuit.WorkerId from) {
            return new Handler(descriptor);
        }

        @Override
        public Class<? extends Worker> workerType() {
            return TestWorker.class;
        }

        @Override
        public Worker resolveWorker(WorkerDescriptor d) {
            return new TestWorker(d.id(), d.address());
        }
    };

    private final MessageCodec codec = new MessageCodec(getClass().getClassLoader(), refs);

    @Test
    void aViewOfPartOfAListArrivesAsAListOfTheElementsItShows() {
        List<List<Integer>> views = List.of(new java.util.ArrayList<>(List.of(1, 2, 3)).subList(0, 2),
            new java.util.LinkedList<>(List.of(1, 2, 3)).subList(0, 2), java.util.Arrays.asList(1, 2, 3).subList(0, 2),
            new java.util.concurrent.CopyOnWriteArrayList<>(List.of(1, 2, 3)).subList(0, 2));
        for (List<Integer> view : views) {
            Message.Reply back = (Message.Reply) roundTrip(new Message.Reply(1, java.util.Arrays.asList(view, view)));
            List<?> pair = (List<?>) back.value();
            // before: the view's fields were copied, and its first use threw ConcurrentModificationException
            assertThat(pair.get(0)).as(view.getClass().getName()).isEqualTo(List.of(1, 2)).isInstanceOf(java.util.ArrayList.class);
            assertThat(pair.get(1)).as("one object sent twice arrives once").isSameAs(pair.get(0));
        }
        // before: it went as its fields, and reading it failed (read as a malformed message, closing the link)
        Object keys = ((Message.Reply) roundTrip(new Message.Reply(2,
            new java.util.concurrent.ConcurrentHashMap<>(java.util.Map.of("x", 1, "y", 2)).keySet()))).value();
        assertThat(keys).isEqualTo(java.util.Set.of("x", "y")).isInstanceOf(java.util.HashSet.class);
    }

    @Test
    void theJdksViewsOfMapsArriveAsPlainCollectionsOfWhatTheyShow() {
        java.util.TreeMap<String, Integer> tree = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        tree.putAll(java.util.Map.of("a", 1, "B", 2, "c", 3, "D", 4));
        java.util.LinkedHashMap<String, Integer> linked = new java.util.LinkedHashMap<>();
        linked.put("z", 26);
        linked.put("a", 1);
        linked.put("m", 13);
        java.util.HashMap<String, Integer> hash = new java.util.HashMap<>(linked);
        java.util.concurrent.ConcurrentSkipListMap<String, Integer> skip = new java.util.concurrent.ConcurrentSkipListMap<>(tree);

        // before: these could not be sent at all ("doesn't support serialization")
        assertThat(back(linked.keySet())).isInstanceOf(java.util.LinkedHashSet.class);
        assertThat(inOrder(back(linked.keySet()))).containsExactly("z", "a", "m");
        assertThat(back(linked.values())).isInstanceOf(java.util.ArrayList.class).isEqualTo(List.of(26, 1, 13));
        assertThat(back(hash.keySet())).isEqualTo(java.util.Set.of("z", "a", "m"));
        assertThat(inOrder(back(hash.values()))).containsExactlyInAnyOrder(26, 1, 13);
        assertThat(inOrder(back(linked.entrySet())))
            .containsExactly(java.util.Map.entry("z", 26), java.util.Map.entry("a", 1), java.util.Map.entry("m", 13));
        assertThat(back(hash.entrySet().iterator().next())).isInstanceOf(java.util.AbstractMap.SimpleImmutableEntry.class);
        assertThat(back(java.util.Map.entry("k", 7))).isEqualTo(java.util.Map.entry("k", 7));
        assertThat(back(new java.util.ArrayList<>(List.of(1, 2, 3)).reversed())).isEqualTo(List.of(3, 2, 1));
        assertThat(back(linked.reversed())).isInstanceOf(java.util.LinkedHashMap.class).extracting(m -> List.copyOf(((java.util.Map<?, ?>) m).keySet()))
            .isEqualTo(List.of("m", "a", "z"));
        Object keys = back(tree.keySet());
        assertThat(keys).isInstanceOf(java.util.TreeSet.class);
        assertThat(inOrder(keys)).containsExactly("a", "B", "c", "D");
        assertThat(((java.util.TreeSet<?>) keys).comparator()).as("the map's comparator").isSameAs(String.CASE_INSENSITIVE_ORDER);
        assertThat(inOrder(back(skip.descendingKeySet()))).containsExactly("D", "c", "B", "a");
        assertThat(back(tree.values())).isEqualTo(List.of(1, 2, 3, 4));

        // before: a sub-map went with its whole backing map, as a view of a copy, and refused a put of its own keys
        for (java.util.SortedMap<String, Integer> view : List.of(tree.headMap("c"), skip.headMap("c"))) {
            @SuppressWarnings("unchecked")
            java.util.Map<String, Integer> sub = (java.util.Map<String, Integer>) back(view);
            assertThat(sub).as(view.getClass().getName()).isInstanceOf(java.util.TreeMap.class).containsOnlyKeys("a", "B");
            sub.put("d", 4);
            assertThat(sub).containsEntry("D", 4).hasSize(3); // case-insensitive: the comparator came along
        }
        assertThat(inOrder(((java.util.Map<?, ?>) back(tree.descendingMap())).keySet()))
            .containsExactly("D", "c", "B", "a");

        java.util.Set<String> view = hash.keySet();
        List<?> pair = (List<?>) back(java.util.Arrays.asList(view, view));
        assertThat(pair.get(1)).as("one view sent twice arrives once").isSameAs(pair.get(0));
    }

    /** Keys that all land in one bucket: a HashMap keeps them in a tree of its own entry class. */
    private record Colliding(int n) {
        @Override
        public int hashCode() {
            return 7;
        }
    }

    @Test
    void viewsOfMapsInEveryShapeTheJdkKeepsThemGo() throws Exception {
        java.util.HashMap<Colliding, Integer> bucket = new java.util.HashMap<>(128);
        for (int i = 0; i < 12; i++) {
            bucket.put(new Colliding(i), i);
        }
        // before: java.util.HashMap$TreeNode "doesn't support serialization"
        assertThat(back(bucket.entrySet())).isEqualTo(bucket.entrySet());
        assertThat(back(new java.util.LinkedHashMap<>(bucket).entrySet())).isEqualTo(bucket.entrySet());

        java.util.concurrent.ConcurrentSkipListMap<Integer, Integer> skip = new java.util.concurrent.ConcurrentSkipListMap<>();
        for (int i = 0; i < 2_000; i++) {
            skip.put(i, i);
        }
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Thread churn = Thread.ofPlatform().start(() -> {
            for (int i = 0; !done.get(); i = (i + 1) % 2_000) {
                skip.remove(i);
                skip.put(i, i);
            }
        });
        try {
            // before: a sub-map that shrank while it was copied failed its send (NoSuchElementException)
            for (int i = 0; i < 1_000; i++) {
                // what a weakly consistent iteration saw, counted as it was written
                assertThat((java.util.Map<?, ?>) back(skip.headMap(1_500))).isInstanceOf(java.util.TreeMap.class)
                    .isNotEmpty().allSatisfy((k, v) -> assertThat((Integer) k).isLessThan(1_500).isEqualTo(v));
                assertThat((java.util.Map<?, ?>) back(skip.descendingMap())).isInstanceOf(java.util.TreeMap.class).isNotEmpty();
            }
        } finally {
            done.set(true);
            churn.join();
        }

        java.util.Map<String, Integer> own = new java.util.AbstractMap<>() { // an application's own map
            @Override
            public java.util.Set<java.util.Map.Entry<String, Integer>> entrySet() {
                return java.util.Map.of("x", 1).entrySet();
            }
        };
        assertThat(back(own.keySet())).isEqualTo(java.util.Set.of("x")); // before: "doesn't support serialization"
        assertThat(back(own.values())).isEqualTo(List.of(1));

        java.util.Map.Entry<String, Object> self = new java.util.HashMap<String, Object>(java.util.Map.of("k", 1)).entrySet().iterator().next();
        self.setValue(self);
        // it would arrive holding null: refused instead
        assertThatThrownBy(() -> back(self)).isInstanceOf(CodecException.class).hasMessageContaining("the entry itself");
    }

    private static List<Object> inOrder(Object collection) {
        return new java.util.ArrayList<>((java.util.Collection<?>) collection);
    }

    /** A strategy enum: each constant with a body is an anonymous subclass of the enum. */
    public enum Op {
        PLUS { @Override int apply(int a, int b) { return a + b; } },
        TIMES { @Override int apply(int a, int b) { return a * b; } },
        NONE;

        int apply(int a, int b) {
            return 0;
        }
    }

    record Ops(java.util.EnumSet<Op> ops, java.util.EnumSet<Character.UnicodeScript> scripts) {
    }

    @Test
    void anEnumSetArrivesWhateverItsConstantsAre() {
        // before: Fory named the set's enum by its first element's class, Op$1 for PLUS, and the read
        // failed with "not an enum" (a malformed message, which ended the session)
        for (java.util.EnumSet<Op> set : List.of(java.util.EnumSet.of(Op.PLUS), java.util.EnumSet.of(Op.TIMES, Op.NONE),
            java.util.EnumSet.allOf(Op.class), java.util.EnumSet.noneOf(Op.class), java.util.EnumSet.of(Op.NONE))) {
            assertThat(back(set)).as(set.toString()).isEqualTo(set).isInstanceOf(java.util.EnumSet.class);
        }
        java.util.EnumSet<Character.UnicodeScript> jumbo = java.util.EnumSet.of(Character.UnicodeScript.LATIN,
            Character.UnicodeScript.YI); // more than 64 constants: the JDK's other EnumSet class
        Ops both = new Ops(java.util.EnumSet.of(Op.PLUS, Op.TIMES), jumbo);
        assertThat(back(both)).isEqualTo(both);
        assertThat(back(java.util.EnumSet.noneOf(Character.UnicodeScript.class))).isEqualTo(java.util.EnumSet.noneOf(Character.UnicodeScript.class));
    }

    /** A value that checks itself as it is read, as a class with invariants does. */
    public static final class Positive implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final int value;

        Positive(int value) {
            this.value = value; // unchecked here: the reader checks
        }

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            if (value < 0) {
                throw new java.io.InvalidObjectException("negative: " + value);
            }
        }
    }

    @Test
    void aValueItsOwnClassRefusesAsItIsReadIsThatMessagesLossAlone() {
        assertThat(((Positive) back(new Positive(3))).value).isEqualTo(3);

        // before: a malformed message, for which the runtime ends the session with the sender
        assertThatThrownBy(() -> back(new Positive(-1))).isInstanceOfSatisfying(CodecException.class, e ->
            assertThat(e.beyondReaderLimits()).as("well formed: that call alone fails").isTrue())
            .hasMessageContaining("holds a value of class " + Positive.class.getName() + " that refused to be read")
            .hasMessageContaining("InvalidObjectException: negative: -1");
        assertThat(((Positive) back(new Positive(4))).value).as("the codec reads on").isEqualTo(4);
    }

    private Object back(Object value) {
        return ((Message.Reply) roundTrip(new Message.Reply(1, value))).value();
    }

    private Message roundTrip(Message m) {
        ByteBuf buf = Unpooled.buffer();
        try {
            codec.encode(m, buf);
            assertThat(MessageCodec.kind(buf)).isEqualTo(buf.getByte(0));
            assertThat(MessageCodec.callId(buf)).isEqualTo(m.callId());
            return codec.decode(buf);
        } finally {
            buf.release();
        }
    }

    private static Greeter proxy(long handle) {
        RefDescriptor d = new RefDescriptor(new WorkerId(0xabcL), new Address("127.0.0.1", 7000), handle, Greeter.class.getName());
        return (Greeter) Proxy.newProxyInstance(Greeter.class.getClassLoader(), new Class<?>[] {Greeter.class}, new Handler(d));
    }

    @Test
    void shouldRoundTripTheCollectorsMessages() {
        Message.Acquire a = (Message.Acquire) roundTrip(new Message.Acquire(9, 42, 1_000));
        assertThat(a.handle()).isEqualTo(42);
        assertThat(a.timeoutNanos()).isEqualTo(1_000);
        Message.Release r = (Message.Release) roundTrip(new Message.Release(0, new long[] {1, 2}, new long[] {3, 4}));
        assertThat(r.handles()).containsExactly(1, 2);
        assertThat(r.counts()).containsExactly(3, 4);
    }

    /** A link in a chain of records: each one nests the next. */
    public record Link(int value, Link next) {
    }

    private static Link chain(int length) {
        Link head = null;
        for (int i = 0; i < length; i++) {
            head = new Link(i, head);
        }
        return head;
    }

    @Test
    void readsValuesNestedHundredsDeepAndRefusesDeeperOnesAsTooDeepNotMalformed() {
        Message.Reply read = (Message.Reply) roundTrip(new Message.Reply(1, chain(ForyPool.MAX_DEPTH - 10)));
        int length = 0;
        for (Link l = (Link) read.value(); l != null; l = l.next()) {
            length++;
        }
        assertThat(length).isEqualTo(ForyPool.MAX_DEPTH - 10);

        assertThatThrownBy(() -> roundTrip(new Message.Reply(2, chain(ForyPool.MAX_DEPTH + 10))))
            .isInstanceOfSatisfying(CodecException.class, e -> assertThat(e.beyondReaderLimits()).isTrue())
            .hasMessageContaining("nests values deeper than this runtime reads: at most " + ForyPool.MAX_DEPTH);
        // deeper than the reading thread's stack holds: refused the same way, not as malformed bytes. The
        // stack a read needs depends on how much of the codec the JIT has compiled, so the read is tried
        // with less and less stack left until it runs out
        ByteBuf buf = Unpooled.buffer();
        try {
            codec.encode(new Message.Reply(3, chain(ForyPool.MAX_DEPTH - 10)), buf);
            java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
            Thread small = new Thread(null, () -> thrown.set(decodeWithLessAndLessStack(buf, 0)), "small-stack", 256 * 1024);
            small.start();
            small.join(60_000);
            assertThat(thrown.get()).isInstanceOfSatisfying(CodecException.class,
                e -> assertThat(e.beyondReaderLimits()).isTrue()).hasMessageContaining("reading thread's stack");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        } finally {
            buf.release();
        }
    }

    /**
     * Fory bounds nesting only when it reads: a stored value deeper than any runtime reads would fail every
     * read, so it is refused when written (a probe stored one of 600 levels), and one within the bound is kept.
     */
    @Test
    void aValueNestedDeeperThanARuntimeReadsIsRefusedWhenEncodedToBeStored() {
        assertThat(codec.decodeValue(codec.encodeValue(chain(ForyPool.MAX_DEPTH - 10)))).isEqualTo(chain(ForyPool.MAX_DEPTH - 10));
        assertThatThrownBy(() -> codec.encodeValue(chain(ForyPool.MAX_DEPTH + 10)))
            .isInstanceOf(CodecException.class)
            .hasMessageContaining("cannot serialize a " + Link.class.getName())
            .hasMessageContaining("nests values deeper than a runtime reads: at most " + ForyPool.MAX_DEPTH + " levels");
        // the instances the check used are sound: the next value is written and read as usual
        assertThat(codec.decodeValue(codec.encodeValue(List.of("after", 1)))).isEqualTo(List.of("after", 1));
    }

    /** The JDK's map entries arrive as the same kind of entry, their key and value whole, a shared one still shared. */
    @Test
    void mapEntriesArriveAsTheirOwnKind() {
        List<Long> shared = List.of(7L, 8L);
        Map.Entry<String, List<Long>> immutable = new java.util.AbstractMap.SimpleImmutableEntry<>("the", shared);
        Map.Entry<String, List<Long>> mutable = new java.util.AbstractMap.SimpleEntry<>(null, shared);
        Map.Entry<String, Object> holder = Map.entry("if", immutable);
        List<Object> sent = List.of(immutable, mutable, holder);

        @SuppressWarnings("unchecked")
        List<Map.Entry<?, ?>> read = (List<Map.Entry<?, ?>>) ((Message.Reply) roundTrip(new Message.Reply(1, sent))).value();

        assertThat(read).isEqualTo(sent);
        assertThat(read.stream().map(Object::getClass)).containsExactlyElementsOf(sent.stream().map(Object::getClass).toList());
        assertThat(read.get(1).getValue()).as("one list, as sent").isSameAs(read.get(0).getValue());
        assertThat(read.get(2).getValue()).as("one entry, as sent").isSameAs(read.get(0));

        Map.Entry<String, Object> self = new java.util.AbstractMap.SimpleEntry<>("k", null);
        self.setValue(self);
        assertThatThrownBy(() -> codec.encodeValue(self)).hasMessageContaining("the entry itself"); // it would arrive holding null
    }

    /**
     * Internet addresses arrive whole: Fory's own reading of them left the holder null (a broken address
     * that failed only when used) or failed, which a probe saw take a link down.
     */
    @Test
    void internetAddressesArriveWhole() throws Exception {
        java.net.InetAddress loopback = java.net.InetAddress.getLoopbackAddress();
        java.net.InetAddress named = java.net.InetAddress.getByAddress("db.example", new byte[] {10, 1, 2, 3});
        java.net.InetAddress unnamed = java.net.InetAddress.getByAddress(new byte[] {(byte) 192, (byte) 168, 0, 1});
        java.net.Inet6Address scoped = java.net.Inet6Address.getByAddress(null,
            new byte[] {(byte) 0xfe, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 3);
        java.net.InetSocketAddress bound = new java.net.InetSocketAddress(named, 5432);
        java.net.InetSocketAddress unresolved = java.net.InetSocketAddress.createUnresolved("later.example", 80);
        List<Object> sent = List.of(loopback, named, unnamed, scoped, bound, unresolved, loopback);

        @SuppressWarnings("unchecked")
        List<Object> read = (List<Object>) ((Message.Reply) roundTrip(new Message.Reply(1, sent))).value();

        assertThat(read).isEqualTo(sent);
        assertThat(read.stream().map(String::valueOf)).containsExactlyElementsOf(sent.stream().map(String::valueOf).toList());
        assertThat(((java.net.Inet6Address) read.get(3)).getScopeId()).isEqualTo(3);
        assertThat(((java.net.InetSocketAddress) read.get(5)).isUnresolved()).isTrue();
        assertThat(read.get(6)).as("one object, as sent").isSameAs(read.get(0));
        assertThat(codec.decodeValue(codec.encodeValue(named)).toString()).isEqualTo("db.example/10.1.2.3");
    }

    /** Decodes {@code buf} one frame deeper each time until the decoder fails; what it threw. */
    private Throwable decodeWithLessAndLessStack(ByteBuf buf, int depth) {
        try {
            codec.decode(buf.duplicate());
        } catch (RuntimeException | StackOverflowError e) {
            return e;
        }
        return depth > 1_000_000 ? null : decodeWithLessAndLessStack(buf, depth + 1);
    }

    @Test
    void shouldRefuseAMalformedRelease() {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeByte(MessageCodec.KIND_RELEASE).writeLong(0).writeInt(2).writeLong(1).writeLong(1); // one pair short
            assertThatThrownBy(() -> codec.decode(buf)).isInstanceOfSatisfying(CodecException.class,
                e -> assertThat(e.beyondReaderLimits()).as("malformed, not too deep").isFalse());
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldRefuseAMalformedReleaseNamingIt() {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeByte(MessageCodec.KIND_RELEASE).writeLong(0).writeInt(2).writeLong(1).writeLong(1); // one pair short
            assertThatThrownBy(() -> codec.decode(buf)).isInstanceOf(CodecException.class).hasMessageContaining("malformed release");
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldRoundTripACallWithReferencesInsideCollectionsAndRecords() {
        Worker w = new TestWorker(new WorkerId(0x1234L), new Address("10.0.0.1", 1));
        Holder h = new Holder("h", List.of(proxy(1), proxy(2)), Map.of("x", proxy(3)), w);

        Message.Call back = (Message.Call) roundTrip(new Message.Call(42, 9, "m(java.lang.Object)", new Object[] {h, 5}, 1000));

        assertThat(back.callId()).isEqualTo(42);
        assertThat(back.handle()).isEqualTo(9);
        assertThat(back.method()).isEqualTo("m(java.lang.Object)");
        assertThat(back.timeoutNanos()).isEqualTo(1000);
        Holder got = (Holder) back.args()[0];
        assertThat(got.greeters()).hasSize(2);
        assertThat(got.greeters().get(1).greet("x")).isEqualTo("via 2");
        assertThat(got.byName().get("x").greet("y")).isEqualTo("via 3");
        assertThat(got.worker()).isEqualTo(w);
        assertThat(back.args()[1]).isEqualTo(5);
    }

    /** Refuses to be read, as a class that checks its invariants does. */
    static final class RefusesToBeRead implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        @java.io.Serial
        private void readObject(java.io.ObjectInputStream in) throws java.io.InvalidObjectException {
            throw new java.io.InvalidObjectException("not this one");
        }
    }

    /** Refuses to be written. */
    static final class RefusesToBeWritten implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        @java.io.Serial
        private void writeObject(java.io.ObjectOutputStream out) throws java.io.NotSerializableException {
            throw new java.io.NotSerializableException("not this one");
        }
    }

    /**
     * A message lists the holds its writer counted for the peer; a write that fails gives back those
     * counted before it, and a read that fails those of the sender's references it did not reach.
     */
    @Test
    void shouldListTheHoldsCountedForThePeerAndGiveBackThoseAFailedReadDidNotReach() {
        WorkerId self = new WorkerId(0xabcL);
        WorkerId peer = new WorkerId(0xdefL);
        References counting = new References() {
            @Override
            public Class<? extends InvocationHandler> handlerType() {
                return refs.handlerType();
            }

            @Override
            public RefDescriptor describe(InvocationHandler handler, WorkerId to, boolean permanent,
                                          java.util.function.LongConsumer counted) {
                RefDescriptor d = ((Handler) handler).d;
                if (to != null && d.home().equals(self)) {
                    counted.accept(d.handle());
                }
                return d;
            }

            @Override
            public InvocationHandler handlerFor(RefDescriptor descriptor, WorkerId from) {
                return refs.handlerFor(descriptor, from);
            }

            @Override
            public Class<? extends Worker> workerType() {
                return refs.workerType();
            }

            @Override
            public Worker resolveWorker(WorkerDescriptor d) {
                return refs.resolveWorker(d);
            }
        };
        MessageCodec c = new MessageCodec(getClass().getClassLoader(), counting);
        ByteBuf buf = Unpooled.buffer();
        Greeter one = proxy(1);
        try {
            c.encode(new Message.Call(1, 9, "m", new Object[] {one, new RefusesToBeRead(), proxy(2), one}, 1000), buf, peer);
            assertThat(MessageCodec.kind(buf)).isEqualTo(MessageCodec.KIND_CALL);
            assertThat(MessageCodec.holds(buf, 0)).as("listed once each, as written").containsExactly(1, 2);

            assertThatThrownBy(() -> c.decode(buf, self)).isInstanceOfSatisfying(CodecException.class, e -> {
                assertThat(e.beyondReaderLimits()).isTrue();
                assertThat(e.holds()).as("the one read before the failure is the reader's").containsExactly(2);
            });

            ByteBuf other = Unpooled.buffer();
            try {
                assertThatThrownBy(() -> c.encode(new Message.Reply(2, new Object[] {proxy(3), new RefusesToBeWritten(),
                    proxy(4)}), other, peer)).isInstanceOfSatisfying(CodecException.class,
                    e -> assertThat(e.holds()).as("counted before the write failed").containsExactly(3));
            } finally {
                other.release();
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldRoundTripGoLookupReplyAndFailure() {
        int factor = 3;
        Message.Go go = (Message.Go) roundTrip(new Message.Go(1, (Fn<Integer>) () -> 14 * factor, 5));
        Message.Lookup lookup = (Message.Lookup) roundTrip(new Message.Lookup(2, "svc", 6));
        Message.Reply reply = (Message.Reply) roundTrip(new Message.Reply(3, List.of("a", "b")));
        Message.Failure failure = (Message.Failure) roundTrip(
            new Message.Failure(4, RemoteFailure.describe(new IllegalArgumentException("bad", new RuntimeException("root")))));

        assertThat(goResult(go)).isEqualTo(42);
        assertThat(lookup.service()).isEqualTo("svc");
        assertThat(reply.value()).isEqualTo(List.of("a", "b"));
        assertThat(failure.failure().className()).isEqualTo(IllegalArgumentException.class.getName());
        assertThat(failure.failure().cause().message()).isEqualTo("root");
    }

    /** A record that is a function: it travels as one Fory value. */
    record Sum(int a, int b) implements Fn<Integer> {
        @Override
        public Integer call() {
            return a + b;
        }
    }

    /** Where a GO's function-form byte sits: after kind, call id and timeout (no context). */
    private static final int FORM_OFFSET = 1 + 8 + 8;

    private ByteBuf encoded(Message m) {
        ByteBuf buf = Unpooled.buffer();
        codec.encode(m, buf);
        return buf;
    }

    @Test
    void shouldSendALambdaAsItsPartsWithWhatItCaptured() {
        Holder h = new Holder("h", List.of(proxy(4)), Map.of(), null);
        String prefix = "got ";
        Fn<String> fn = () -> prefix + h.name() + " " + h.greeters().get(0).greet("z");
        ByteBuf buf = encoded(new Message.Go(11, fn, 5));
        try {
            assertThat(buf.getByte(FORM_OFFSET)).as("the lambda's parts, not Fory's lambda serializer").isEqualTo(MessageCodec.FN_LAMBDA);
            Message.Go back = (Message.Go) codec.decode(buf);
            assertThat(back.fn()).isNotSameAs(fn);
            assertThat(goResult(back)).as("the captured string, record and reference came along").isEqualTo("got h via 4");
        } finally {
            buf.release();
        }
        Fn<String> methodRef = "abc"::toUpperCase;
        assertThat(goResult((Message.Go) roundTrip(new Message.Go(12, methodRef, 5)))).isEqualTo("ABC");
        ByteBuf record = encoded(new Message.Go(13, new Sum(40, 2), 5));
        try {
            assertThat(record.getByte(FORM_OFFSET)).isEqualTo(MessageCodec.FN_OBJECT);
            assertThat(goResult((Message.Go) codec.decode(record))).isEqualTo(42);
        } finally {
            record.release();
        }
    }

    @Test
    void shouldRefuseLambdaPartsThatNameNoClassOrNoLambdaOfItOrAnUnknownForm() {
        int n = 6;
        Fn<Integer> fn = () -> n * 7;
        ByteBuf good = encoded(new Message.Go(14, fn, 5));
        // a method reference: its capturing class is named once (a lambda's is its implementation class too)
        Fn<String> methodRef = "abc"::toUpperCase;
        ByteBuf ref = encoded(new Message.Go(15, methodRef, 5));
        String capturing = MessageCodecTest.class.getName().replace('.', '/');
        ByteBuf noClass = replaced(ref, capturing, capturing.substring(0, capturing.length() - 1) + "X");
        ByteBuf noLambda = replaced(good, "lambda$", "lambdaX");
        ByteBuf unknownForm = good.copy().setByte(FORM_OFFSET, 7);
        try {
            assertThatThrownBy(() -> codec.decode(noClass)).isInstanceOf(CodecException.class)
                .hasMessageContaining("cannot be loaded here");
            assertThatThrownBy(() -> codec.decode(noLambda)).isInstanceOf(CodecException.class)
                .hasMessageContaining("cannot be rebuilt here");
            assertThatThrownBy(() -> codec.decode(unknownForm)).isInstanceOf(CodecException.class)
                .hasMessageContaining("function form 7");
            assertThat(goResult((Message.Go) codec.decode(good))).as("the codec is fine after them").isEqualTo(42);
        } finally {
            good.release();
            ref.release();
            noClass.release();
            noLambda.release();
            unknownForm.release();
        }
    }

    /** A copy of {@code buf} with the one Latin-1 occurrence of {@code from} overwritten by {@code to}. */
    private static ByteBuf replaced(ByteBuf buf, String from, String to) {
        return Unpooled.wrappedBuffer(WireBytes.replace(io.netty.buffer.ByteBufUtil.getBytes(buf),
            from.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), to.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
    }

    private static Object goResult(Message.Go go) {
        try {
            return go.fn().call();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void shouldCarryAnInterceptorContextOnlyWhenThereIsOne() {
        Map<String, String> ctx = Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tenant", "t-42");
        Message.Call call = (Message.Call) roundTrip(new Message.Call(5, 9, "m()", new Object[0], 1000, ctx));
        assertThat(call.context()).isEqualTo(ctx);
        assertThat(call.method()).isEqualTo("m()");
        int factor = 2;
        Message.Go go = (Message.Go) roundTrip(new Message.Go(6, (Fn<Integer>) () -> 21 * factor, 7, ctx));
        assertThat(go.context()).isEqualTo(ctx);
        assertThat(goResult(go)).isEqualTo(42);

        ByteBuf plain = Unpooled.buffer();
        ByteBuf withContext = Unpooled.buffer();
        try {
            codec.encode(new Message.Call(5, 9, "m()", new Object[0], 1000), plain);
            codec.encode(new Message.Call(5, 9, "m()", new Object[0], 1000, Map.of("k", "v")), withContext);
            assertThat(MessageCodec.kind(plain)).isEqualTo(MessageCodec.KIND_CALL); // unchanged on the wire
            assertThat(MessageCodec.kind(withContext)).isEqualTo(MessageCodec.KIND_CALL_CTX);
            assertThat(MessageCodec.isRequest(MessageCodec.KIND_CALL_CTX)).isTrue();
            assertThat(MessageCodec.isGo(MessageCodec.KIND_GO_CTX)).isTrue();
            assertThat(((Message.Call) codec.decode(plain)).context()).isEmpty();
        } finally {
            plain.release();
            withContext.release();
        }
    }

    @Test
    void shouldRefuseAContextWithNoEntriesOrTooMany() {
        Map<String, String> big = new java.util.HashMap<>();
        for (int i = 0; i <= MessageCodec.MAX_CONTEXT_ENTRIES; i++) {
            big.put("k" + i, "v");
        }
        ByteBuf out = Unpooled.buffer();
        try {
            assertThatThrownBy(() -> codec.encode(new Message.Call(1, 1, "m()", new Object[0], 1, big), out))
                .isInstanceOf(CodecException.class).hasMessageContaining("over the limit of 64");
        } finally {
            out.release();
        }
        ByteBuf empty = Unpooled.buffer();
        ByteBuf tooMany = Unpooled.buffer();
        try {
            empty.writeByte(MessageCodec.KIND_CALL_CTX).writeLong(1).writeLong(1).writeLong(1).writeByte(0);
            tooMany.writeByte(MessageCodec.KIND_GO_CTX).writeLong(1).writeLong(1).writeByte(200);
            assertThatThrownBy(() -> codec.decode(empty)).isInstanceOf(CodecException.class).hasMessageContaining("call context of 0 entries");
            assertThatThrownBy(() -> codec.decode(tooMany)).isInstanceOf(CodecException.class).hasMessageContaining("call context of 200 entries");
        } finally {
            empty.release();
            tooMany.release();
        }
    }

    @Test
    void shouldRejectGarbageWithACodecException() {
        ByteBuf whole = Unpooled.buffer();
        codec.encode(new Message.Reply(1, new Holder("truncated", List.of(), Map.of(), null)), whole);
        ByteBuf garbage = whole.slice(0, whole.readableBytes() / 2);
        ByteBuf unknownKind = Unpooled.buffer().writeByte(77).writeLong(1);
        ByteBuf tooShort = Unpooled.buffer().writeByte(MessageCodec.KIND_REPLY);

        assertThatThrownBy(() -> codec.decode(garbage)).isInstanceOf(CodecException.class);
        assertThatThrownBy(() -> codec.decode(unknownKind)).isInstanceOf(CodecException.class).hasMessageContaining("unknown message kind 77");
        assertThatThrownBy(() -> codec.decode(tooShort)).isInstanceOf(CodecException.class).hasMessageContaining("shorter");
        assertThat(((Message.Reply) roundTrip(new Message.Reply(9, "fine after"))).value()).isEqualTo("fine after");
    }

    @Test
    void shouldRebuildTheOriginalExceptionTypeWithRemoteFramesFirst() {
        IllegalStateException original = new IllegalStateException("remote trouble");
        StackTraceElement[] local = new Throwable().getStackTrace();

        Throwable rebuilt = RemoteFailure.describe(original).rebuild(getClass().getClassLoader(), "call", local);

        assertThat(rebuilt).isExactlyInstanceOf(IllegalStateException.class).hasMessage("remote trouble");
        assertThat(rebuilt.getStackTrace()[0].toString()).isEqualTo(original.getStackTrace()[0].toString());
        assertThat(rebuilt.getStackTrace()).hasSize(original.getStackTrace().length + 1 + local.length);
    }

    @Test
    void shouldRebuildAnExceptionWhoseConstructorTakesANarrowerCause() {
        java.io.UncheckedIOException original = new java.io.UncheckedIOException("disk gone", new java.io.IOException("EIO"));

        Throwable rebuilt = RemoteFailure.describe(original).rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]);

        assertThat(rebuilt).isExactlyInstanceOf(java.io.UncheckedIOException.class).hasMessage("disk gone");
        assertThat(rebuilt.getCause()).isExactlyInstanceOf(java.io.IOException.class).hasMessage("EIO");
    }

    /** An exception whose every overridable method misbehaves, as a class of an application's may. */
    static final class Hostile extends RuntimeException {
        @Override
        public String getMessage() {
            throw new IllegalStateException("no message");
        }

        @Override
        public StackTraceElement[] getStackTrace() {
            throw new IllegalStateException("no stack");
        }

        @Override
        public synchronized Throwable getCause() {
            throw new IllegalStateException("no cause");
        }
    }

    /** One whose getMessage recurses until the stack runs out, with a cause that is itself again. */
    static final class Recursing extends RuntimeException {
        @Override
        public String getMessage() {
            return getMessage();
        }

        @Override
        public synchronized Throwable getCause() {
            return new Recursing(); // a new one each time: a cycle no identity check sees
        }
    }

    /** One whose stack holds nulls. */
    static final class Holes extends RuntimeException {
        Holes() {
            super("holes");
        }

        @Override
        public StackTraceElement[] getStackTrace() {
            return new StackTraceElement[] {null, new StackTraceElement("C", "m", "C.java", 1), null};
        }
    }

    @Test
    void describingAFailureNeverThrowsWhateverTheExceptionsOwnMethodsDo() {
        RemoteFailure hostile = RemoteFailure.describe(new Hostile());
        RemoteFailure recursing = RemoteFailure.describe(new Recursing());
        RemoteFailure holes = RemoteFailure.describe(new Holes());

        assertThat(hostile.className()).isEqualTo(Hostile.class.getName());
        assertThat(hostile.message()).isEqualTo("(its message could not be read: getMessage() threw java.lang.IllegalStateException)");
        assertThat(hostile.frames()).isEmpty();
        assertThat(hostile.cause()).isNull();
        assertThat(recursing.message()).contains("getMessage() threw java.lang.StackOverflowError");
        int depth = 0;
        for (RemoteFailure c = recursing; c != null; c = c.cause()) {
            depth++;
        }
        assertThat(depth).as("causes described").isEqualTo(9);
        assertThat(holes.frames()).extracting(RemoteFailure.Frame::methodName).containsExactly("m");
        Message.Failure decoded = (Message.Failure) roundTrip(new Message.Failure(11, hostile));
        assertThat(decoded.failure().rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]))
            .isExactlyInstanceOf(io.jcircuit.RemoteException.class)
            .hasMessage(Hostile.class.getName() + ": (its message could not be read: getMessage() threw "
                + "java.lang.IllegalStateException)");
        assertThat(RemoteFailure.summary(new Hostile())).isEqualTo(Hostile.class.getName()
            + ": (its message could not be read: getMessage() threw java.lang.IllegalStateException)");
    }

    @Test
    void shouldCarryTheSuppressedExceptionsOverTheWire() {
        IllegalStateException original = new IllegalStateException("close failed", new java.io.IOException("flush"));
        original.addSuppressed(new java.io.UncheckedIOException("second close", new java.io.IOException("EBADF")));
        original.addSuppressed(new IllegalArgumentException("third"));

        Message.Failure decoded = (Message.Failure) roundTrip(new Message.Failure(7, RemoteFailure.describe(original)));
        Throwable rebuilt = decoded.failure().rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]);

        assertThat(rebuilt).isExactlyInstanceOf(IllegalStateException.class).hasMessage("close failed");
        assertThat(rebuilt.getCause()).isExactlyInstanceOf(java.io.IOException.class).hasMessage("flush");
        assertThat(rebuilt.getSuppressed()).hasSize(2);
        assertThat(rebuilt.getSuppressed()[0]).isExactlyInstanceOf(java.io.UncheckedIOException.class).hasMessage("second close")
            .cause().hasMessage("EBADF");
        assertThat(rebuilt.getSuppressed()[1]).isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("third");
    }

    @Test
    void shouldDescribeAtMostSoManyExceptionsAndRefuseMoreOnReading() {
        RuntimeException many = new RuntimeException("many");
        for (int i = 0; i < 100; i++) {
            many.addSuppressed(new RuntimeException("s" + i));
        }
        RemoteFailure described = RemoteFailure.describe(many);
        assertThat(described.suppressed()).hasSize(RemoteFailure.MAX_EXCEPTIONS - 1);

        RemoteFailure.Frame[] none = new RemoteFailure.Frame[0];
        RemoteFailure[] tooMany = new RemoteFailure[RemoteFailure.MAX_EXCEPTIONS];
        java.util.Arrays.fill(tooMany, new RemoteFailure("x.Y", "s", none, null));
        ByteBuf buf = Unpooled.buffer();
        try {
            codec.encode(new Message.Failure(8, new RemoteFailure("x.Y", "top", none, null, tooMany)), buf);
            assertThatThrownBy(() -> codec.decode(buf)).isInstanceOf(CodecException.class)
                .hasMessageContaining("more than " + RemoteFailure.MAX_EXCEPTIONS + " exceptions");
        } finally {
            buf.release();
        }
    }

    /** An exception that makes its own message. */
    public static final class Fixed extends RuntimeException {
        public Fixed() {
            super("fixed message");
        }
    }

    @Test
    void shouldRebuildAnExceptionThatMakesItsOwnMessage() {
        // before: a RemoteException, since its only constructor takes no message
        Throwable rebuilt = RemoteFailure.describe(new Fixed()).rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]);

        assertThat(rebuilt).isExactlyInstanceOf(Fixed.class).hasMessage("fixed message");
    }

    /** Exceptions that build their message from what they are given, around it. */
    public static final class UserNotFound extends RuntimeException {
        public UserNotFound(String userId) {
            super("no user " + userId);
        }
    }

    public static final class Quoted extends RuntimeException {
        public Quoted(String what, Throwable cause) {
            super("'" + what + "' failed", cause);
        }
    }

    public static final class Repeats extends RuntimeException {
        public Repeats(String what) {
            super(what + " " + what); // no text to take off makes it say what the original said
        }
    }

    @Test
    void anExceptionThatBuildsItsMessageFromWhatItIsGivenArrivesSayingItOnce() {
        ClassLoader loader = getClass().getClassLoader();
        StackTraceElement[] none = new StackTraceElement[0];
        // before: "no user no user bob", as a UserNotFound
        assertThat(RemoteFailure.describe(new UserNotFound("bob")).rebuild(loader, "call", none))
            .isExactlyInstanceOf(UserNotFound.class).hasMessage("no user bob");
        assertThat(RemoteFailure.describe(new Quoted("save", new IllegalStateException("full"))).rebuild(loader, "call", none))
            .isExactlyInstanceOf(Quoted.class).hasMessage("'save' failed")
            .cause().isInstanceOf(IllegalStateException.class).hasMessage("full");
        assertThat(RemoteFailure.describe(new Repeats("x")).rebuild(loader, "call", none)).as("the documented fallback")
            .isExactlyInstanceOf(RemoteException.class).hasMessageContaining(Repeats.class.getName()).hasMessageContaining("x x");
    }

    /** An exception whose (String) constructor cannot know the code another constructor set. */
    public static class WithCode extends RuntimeException {
        private final int code;
        private String region = "default";
        private final transient Object notTravelling = "local";
        private final java.util.List<String> notSimple = java.util.List.of("x");

        public WithCode(String message) {
            super(message);
            this.code = -1;
        }

        public WithCode(int code, String region) {
            super("failed with " + code);
            this.code = code;
            this.region = region;
        }

        public int code() {
            return code;
        }

        public String region() {
            return region;
        }
    }

    /** Counts the instances its constructors make. */
    static final java.util.concurrent.atomic.AtomicInteger SHOWN_CODES_MADE = new java.util.concurrent.atomic.AtomicInteger();

    /** An exception whose message shows a code that its (String) constructor cannot know. */
    public static final class ShowsCode extends RuntimeException {
        private final int code;

        public ShowsCode(String message) {
            this(message, -1);
        }

        public ShowsCode(String message, int code) {
            super(message);
            this.code = code;
            SHOWN_CODES_MADE.incrementAndGet();
        }

        @Override
        public String getMessage() {
            return "[E" + code + "] " + super.getMessage();
        }
    }

    /**
     * An exception whose message shows one of its fields arrives as its class, saying what it said, with the
     * field set; and each exception is made once. Before, the (String) constructor's default made it say
     * "[E-1] boom", so it arrived as a RemoteException, and every exception with fields that travelled was made
     * twice (a constructor with side effects ran twice).
     */
    @Test
    void anExceptionWhoseMessageShowsAFieldArrivesAsItsClassMadeOnce() {
        ClassLoader loader = getClass().getClassLoader();
        StackTraceElement[] none = new StackTraceElement[0];
        RemoteFailure sent = ((Message.Failure) roundTrip(new Message.Failure(7, RemoteFailure.describe(new ShowsCode("boom", 7))))).failure();
        SHOWN_CODES_MADE.set(0);
        Throwable t = sent.rebuild(loader, "call", none);
        assertThat(t).isExactlyInstanceOf(ShowsCode.class).hasMessage("[E7] boom");
        assertThat(SHOWN_CODES_MADE).as("made once").hasValue(1);

        Throwable coded = ((Message.Failure) roundTrip(new Message.Failure(8, RemoteFailure.describe(new WithCode(42, "us")))))
            .failure().rebuild(loader, "call", none);
        assertThat(((WithCode) coded).code()).isEqualTo(42);
    }

    /** A subclass with a field of the same name as its parent's. */
    public static final class MoreCode extends WithCode {
        private final int code;

        public MoreCode(String message) {
            super(message);
            this.code = -2;
        }

        public MoreCode(int parent, int own) {
            super(parent, "eu");
            this.code = own;
        }
    }

    /**
     * An exception's fields of simple types travel, and are set on the exception made again, its parent
     * classes' too. Before, a {@code (String)} constructor set them as it would for that message: a code
     * of 42 arrived as -1, an {@code SQLException}'s SQL state and error code as null and 0.
     */
    @Test
    void anExceptionsSimpleFieldsArriveAsTheCalleeHadThem() {
        ClassLoader loader = getClass().getClassLoader();
        StackTraceElement[] none = new StackTraceElement[0];
        Message.Failure decoded = (Message.Failure) roundTrip(new Message.Failure(3, RemoteFailure.describe(new WithCode(42, "us"))));
        assertThat(decoded.failure().fieldNames()).as("neither the transient field nor the list travels")
            .containsExactlyInAnyOrder(WithCode.class.getName() + "#code", WithCode.class.getName() + "#region");
        Throwable t = decoded.failure().rebuild(loader, "call", none);
        assertThat(t).isExactlyInstanceOf(WithCode.class).hasMessage("failed with 42");
        assertThat(((WithCode) t).code()).isEqualTo(42);
        assertThat(((WithCode) t).region()).isEqualTo("us");

        Throwable more = ((Message.Failure) roundTrip(new Message.Failure(4, RemoteFailure.describe(new MoreCode(7, 8)))))
            .failure().rebuild(loader, "call", none);
        assertThat(((WithCode) more).code()).as("the parent's field").isEqualTo(7);
        assertThat(more).extracting("code").as("the subclass's own").isEqualTo(8);

        Throwable sql = ((Message.Failure) roundTrip(new Message.Failure(5, RemoteFailure.describe(
            new java.sql.SQLException("syntax error", "42000", 1064))))).failure().rebuild(loader, "call", none);
        assertThat(sql).isExactlyInstanceOf(java.sql.SQLException.class).hasMessage("syntax error");
        assertThat(((java.sql.SQLException) sql).getSQLState()).isEqualTo("42000");
        assertThat(((java.sql.SQLException) sql).getErrorCode()).isEqualTo(1064);
    }

    /**
     * A caller that lacks the exception's class gets its fields that travelled on the {@link RemoteException},
     * and a runtime that passes that exception on passes them on. Before, they were dropped on both counts.
     */
    @Test
    void aCallerWithoutTheClassSeesTheFieldsThatTravelled() {
        ClassLoader hiding = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.equals(java.sql.SQLException.class.getName())) {
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }
        };
        StackTraceElement[] none = new StackTraceElement[0];
        Throwable t = ((Message.Failure) roundTrip(new Message.Failure(5, RemoteFailure.describe(
            new java.sql.SQLException("syntax error", "42000", 1064))))).failure().rebuild(hiding, "call", none);
        assertThat(t).isExactlyInstanceOf(RemoteException.class);
        RemoteException re = (RemoteException) t;
        assertThat(re.remoteFields()).containsEntry("java.sql.SQLException#SQLState", "42000")
            .containsEntry("java.sql.SQLException#vendorCode", 1064);
        assertThat(re.remoteField("SQLState")).isEqualTo("42000");
        assertThat(re.remoteField("vendorCode")).isEqualTo(1064);
        assertThat(re.remoteField("State")).as("a whole name only").isNull();
        assertThat(re.remoteField("nothing")).isNull();
        assertThatThrownBy(() -> re.remoteFields().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);

        // passed on by a runtime that lacks the class too, then rebuilt where the class is known
        Throwable again = ((Message.Failure) roundTrip(new Message.Failure(6, RemoteFailure.describe(re)))).failure()
            .rebuild(getClass().getClassLoader(), "call", none);
        assertThat(again).isExactlyInstanceOf(java.sql.SQLException.class).hasMessage("syntax error");
        assertThat(((java.sql.SQLException) again).getSQLState()).isEqualTo("42000");
        assertThat(((java.sql.SQLException) again).getErrorCode()).isEqualTo(1064);
        assertThat(new RemoteFailure("com.example.NotHere", "m", new RemoteFailure.Frame[0], null)
            .rebuild(hiding, "call", none)).as("none travelled").extracting(x -> ((RemoteException) x).remoteFields())
            .isEqualTo(Map.of());
    }

    @Test
    void aFailureWhoseFieldsCouldNotHaveBeenDescribedIsRefused() {
        RemoteFailure.Frame[] frames = new RemoteFailure.Frame[0];
        for (RemoteFailure bad : List.of(
            new RemoteFailure("X", "m", frames, null, null, null, new String[] {"X#a"}, new Object[] {new java.util.ArrayList<>()}),
            new RemoteFailure("X", "m", frames, null, null, null, new String[] {"X#a", "X#b"}, new Object[] {1}),
            new RemoteFailure("X", "m", frames, null, null, null, new String[] {"X#a"}, null),
            new RemoteFailure("X", "m", frames, null, null, null, new String[] {null}, new Object[] {1}))) {
            ByteBuf buf = Unpooled.buffer();
            try {
                codec.encode(new Message.Failure(6, bad), buf);
                assertThatThrownBy(() -> codec.decode(buf)).as(java.util.Arrays.toString(bad.fieldNames()))
                    .isInstanceOf(CodecException.class).hasMessageContaining("field");
            } finally {
                buf.release();
            }
        }
    }

    /** An exception that adds to the message it was made with, as many do (an error code, say). */
    public static final class Coded extends RuntimeException {
        public Coded(String message) {
            super(message);
        }

        @Override
        public String getMessage() {
            return "E42: " + super.getMessage();
        }
    }

    @Test
    void anExceptionThatAddsToItsMessageArrivesWithItOnce() {
        Message.Failure decoded = (Message.Failure) roundTrip(new Message.Failure(9, RemoteFailure.describe(new Coded("disk full"))));

        // before: "E42: E42: disk full", made with what getMessage() said
        assertThat(decoded.failure().rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]))
            .isExactlyInstanceOf(Coded.class).hasMessage("E42: disk full");
        // a caller that lacks the class sees what getMessage() said
        assertThat(new RemoteFailure("com.example.Coded", decoded.failure().message(), new RemoteFailure.Frame[0], null,
            null, decoded.failure().detail()).rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]))
            .isExactlyInstanceOf(RemoteException.class).hasMessageContaining("E42: disk full");
        assertThat(RemoteFailure.describe(new IllegalStateException("plain")).detail()).as("sent only when it differs").isNull();
    }

    /** An exception that hides part of the message it was made with. */
    public static final class Redacted extends RuntimeException {
        public Redacted(String message) {
            super(message);
        }

        @Override
        public String getMessage() {
            return super.getMessage().replaceAll("password=\\S+", "password=***");
        }
    }

    @Test
    void anExceptionThatAddsFromItsOwnFieldsOrHidesPartOfItsMessageArrivesAsItReads() {
        // the file is a field the (String) constructor does not set: made with the whole message, as before
        java.nio.file.FileSystemException fs = new java.nio.file.FileSystemException("/etc/passwd/sub", null, "Not a directory");
        Throwable rebuilt = ((Message.Failure) roundTrip(new Message.Failure(10, RemoteFailure.describe(fs)))).failure()
            .rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]);
        assertThat(rebuilt).isExactlyInstanceOf(java.nio.file.FileSystemException.class).hasMessage(fs.getMessage());

        RemoteFailure hidden = RemoteFailure.describe(new Redacted("login failed: password=hunter2"));
        assertThat(hidden.detail()).as("what the class hides does not travel").isNull();
        assertThat(hidden.message()).isEqualTo("login failed: password=***");
    }

    @Test
    void shouldFallBackToRemoteExceptionForUnknownClasses() {
        RemoteFailure f = new RemoteFailure("com.example.NotHere", "lost", new RemoteFailure.Frame[0], null);

        Throwable rebuilt = f.rebuild(getClass().getClassLoader(), "call", new StackTraceElement[0]);

        assertThat(rebuilt).isExactlyInstanceOf(RemoteException.class);
        assertThat(((RemoteException) rebuilt).remoteClassName()).isEqualTo("com.example.NotHere");
        assertThat(((RemoteException) rebuilt).remoteMessage()).isEqualTo("lost");
    }
}
