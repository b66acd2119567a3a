package io.jcircuit.codec;

import io.jcircuit.WorkerId;

import io.jcircuit.Fn;
import io.netty.buffer.ByteBuf;
import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;

import java.lang.invoke.SerializedLambda;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Turns {@link Message}s into DATA payloads and back, with Apache Fory in compatible mode (fields may
 * be added or removed between versions) and reference tracking (shared and cyclic objects survive).
 *
 * <pre>
 *  | kind (1) | call id (8) | fixed fields by kind          | [holds] | Fory body                       |
 *   CALL        id           handle (8), timeout ns (8)                 method (string), args (Object[])
 *   GO          id           timeout ns (8)                             form (1), fn
 *   CALL_CTX    id           handle (8), timeout ns (8)                 context, method (string), args (Object[])
 *   GO_CTX      id           timeout ns (8)                             context, form (1), fn
 *   LOOKUP      id           timeout ns (8)                             service name (string)
 *   REPLY       id           -                                          value
 *   FAILURE     id           -                                          RemoteFailure
 *
 *  holds, present when the kind byte has {@link #HOLDS} set:  | count n (4, &gt; 0) | n handles (8 each) |
 * </pre>
 *
 * <p>The holds list the handles of the sender's own exports that the message carries references to,
 * in the order they are written: the sender counted each as held by the receiver
 * ({@link References#describe}). Nobody reads them while the message is read whole; they say which
 * holds to undo when a message is not sent after all ({@link #holds}, {@link CodecException#holds()}),
 * and which to release at the sender when a receiver cannot read the message (the sender's references
 * read before it failed are the first of them, and their handlers release them). A message without
 * such references has no list, and the bytes it had before.
 *
 * A function is a serializable lambda's parts ({@link #FN_LAMBDA}, laid out in {@link Lambdas}) or one
 * Fory value ({@link #FN_OBJECT}).
 *
 * <p>A context (what interceptors attach to a request: trace ids and the like) is a count (1 byte, at
 * most {@value #MAX_CONTEXT_ENTRIES}) followed by that many key and value strings. A request without one
 * takes the plain kind, so it costs nothing on the wire.
 *
 * <p>The kind and call id sit at fixed offsets so that the event loop can route a payload (an answer to
 * its waiting caller, a request to a virtual thread) without decoding it; the decoding happens on the
 * thread that consumes the message.
 *
 * <p>Thread-safe; any number of threads may encode and decode at once.
 */
public final class MessageCodec {

    public static final byte KIND_CALL = 1;
    public static final byte KIND_GO = 2;
    public static final byte KIND_LOOKUP = 3;
    public static final byte KIND_REPLY = 4;
    public static final byte KIND_FAILURE = 5;
    public static final byte KIND_ACQUIRE = 6;
    public static final byte KIND_RELEASE = 7;
    public static final byte KIND_CALL_CTX = 8;
    public static final byte KIND_GO_CTX = 9;

    /** The bit of the kind byte that says the message lists holds (see the layout above); not a kind of its own. */
    public static final byte HOLDS = 0x40;

    /** How a GO carries its function: the parts of a serializable lambda ({@link Lambdas}). */
    static final byte FN_LAMBDA = 1;
    /** How a GO carries its function: any other function (a record, a class), as one Fory value. */
    static final byte FN_OBJECT = 2;

    /** The most entries one request's context carries. */
    public static final int MAX_CONTEXT_ENTRIES = 64;
    /** The most exports one {@link Message.Release} names. */
    public static final int MAX_RELEASE_ENTRIES = 4096;

    /** Bytes before any kind-specific field: kind and call id. */
    public static final int PREFIX_LENGTH = 9;

    private static final int MAX_IDLE_INSTANCES = 64;
    /** Cause chains are followed at most this far (a hostile one could be long or cyclic). */
    private static final int MAX_CAUSES = 16;

    private final ForyPool pool;
    /** Reads lambdas, their capturing classes loaded from the codec's class loader. */
    private final Lambdas lambdas;

    public MessageCodec(ClassLoader loader, References refs) {
        this(loader, refs, List.of());
    }

    /**
     * A codec that writes {@code protocolRecords}, the runtime's own records, component by component
     * rather than with a serializer that Fory generates for each class in each JVM (see
     * {@link ProtocolSerializers}). Every runtime that reads them must name the same ones.
     */
    public MessageCodec(ClassLoader loader, References refs, Collection<Class<? extends Record>> protocolRecords) {
        this(loader, refs, protocolRecords, new ClassDefIds(ClassDefIds.DEFAULT_MAX_IDS, ClassDefIds.DEFAULT_MAX_IDS_PER_PEER));
    }

    /** A codec that lets peers introduce the class definitions {@code classDefIds} admits. */
    MessageCodec(ClassLoader loader, References refs, ClassDefIds classDefIds) {
        this(loader, refs, List.of(), classDefIds);
    }

    private MessageCodec(ClassLoader loader, References refs, Collection<Class<? extends Record>> protocolRecords,
                         ClassDefIds classDefIds) {
        List<Class<? extends Record>> records = List.copyOf(protocolRecords);
        this.pool = new ForyPool(loader, fory -> {
            ReferenceSerializers.Context ctx = ReferenceSerializers.register(fory, refs);
            ProtocolSerializers.register(fory, records);
            return ctx;
        }, MAX_IDLE_INSTANCES, classDefIds);
        this.lambdas = new Lambdas(loader);
    }

    /** The message kind of a payload with at least {@link #PREFIX_LENGTH} readable bytes (without {@link #HOLDS}). */
    public static byte kind(ByteBuf payload) {
        return (byte) (payload.getByte(payload.readerIndex()) & ~HOLDS);
    }

    /** The call id of a payload with at least {@link #PREFIX_LENGTH} readable bytes. */
    public static long callId(ByteBuf payload) {
        return payload.getLong(payload.readerIndex() + 1);
    }

    public static boolean isAnswer(byte kind) {
        return kind == KIND_REPLY || kind == KIND_FAILURE;
    }

    public static boolean isRequest(byte kind) {
        return kind == KIND_CALL || kind == KIND_GO || kind == KIND_LOOKUP || kind == KIND_ACQUIRE
            || kind == KIND_CALL_CTX || kind == KIND_GO_CTX;
    }

    /** Whether the request kind runs a {@code go} function. */
    public static boolean isGo(byte kind) {
        return kind == KIND_GO || kind == KIND_GO_CTX;
    }

    /**
     * Appends {@code m} to {@code out}.
     *
     * @throws CodecException naming the cause when a value cannot be serialized; {@code out} may then
     *                        hold a partial message and must be discarded
     */
    public void encode(Message m, ByteBuf out) {
        encode(m, out, null);
    }

    /**
     * Appends {@code m}, bound for {@code peer} (null for a local copy), to {@code out}. References in
     * it are counted as held by {@code peer} (see {@link References#describe}).
     *
     * @throws CodecException as {@link #encode(Message, ByteBuf)}
     */
    public void encode(Message m, ByteBuf out, WorkerId peer) {
        if (m instanceof Message.Release r) {
            writeRelease(r, out);
            return;
        }
        ForyPool.Slot slot = pool.acquire();
        slot.ctx.peer = peer;
        boolean healthy = false;
        int start = out.writerIndex();
        try {
            Fory fory = slot.fory;
            MemoryBuffer body = slot.out;
            switch (m) {
                case Message.Call c -> {
                    boolean ctx = !c.context().isEmpty();
                    out.writeByte(ctx ? KIND_CALL_CTX : KIND_CALL).writeLong(c.callId()).writeLong(c.handle())
                        .writeLong(c.timeoutNanos());
                    if (ctx) {
                        writeContext(fory, body, c.context());
                    }
                    writeText(fory, body, c.method(), "a method name");
                    fory.serialize(body, c.args());
                }
                case Message.Go g -> {
                    boolean ctx = !g.context().isEmpty();
                    out.writeByte(ctx ? KIND_GO_CTX : KIND_GO).writeLong(g.callId()).writeLong(g.timeoutNanos());
                    if (ctx) {
                        writeContext(fory, body, g.context());
                    }
                    SerializedLambda parts = Lambdas.partsOf(g.fn());
                    if (parts != null) {
                        body.writeByte(FN_LAMBDA);
                        Lambdas.write(fory, body, parts);
                    } else {
                        body.writeByte(FN_OBJECT);
                        fory.serialize(body, g.fn());
                    }
                }
                case Message.Lookup l -> {
                    out.writeByte(KIND_LOOKUP).writeLong(l.callId()).writeLong(l.timeoutNanos());
                    writeText(fory, body, l.service(), "a service name");
                }
                case Message.Reply r -> {
                    out.writeByte(KIND_REPLY).writeLong(r.callId());
                    fory.serialize(body, r.value());
                }
                case Message.Failure f -> {
                    out.writeByte(KIND_FAILURE).writeLong(f.callId());
                    fory.serialize(body, f.failure());
                }
                case Message.Acquire a -> out.writeByte(KIND_ACQUIRE).writeLong(a.callId()).writeLong(a.handle())
                    .writeLong(a.timeoutNanos());
                case Message.Release r -> throw new IllegalStateException("written above");
            }
            writeHolds(slot.ctx, out, start);
            out.writeBytes(body.getHeapMemory(), 0, body.writerIndex());
            healthy = true;
        } catch (RuntimeException | StackOverflowError e) {
            // not sent: the holds counted so far are the caller's to undo
            throw new CodecException("cannot serialize " + describe(m) + ": " + rootMessage(e), e)
                .holding(java.util.Arrays.copyOf(slot.ctx.holds, slot.ctx.holdCount));
        } finally {
            if (healthy) {
                pool.release(slot); // a failed write may leave state behind: drop the instance
            }
        }
    }

    /** After the fixed fields of the message begun at {@code start}: the holds counted for its peer, if any. */
    private static void writeHolds(ReferenceSerializers.Context ctx, ByteBuf out, int start) {
        if (ctx.holdCount == 0) {
            return;
        }
        out.setByte(start, out.getByte(start) | HOLDS);
        out.writeInt(ctx.holdCount);
        for (int i = 0; i < ctx.holdCount; i++) {
            out.writeLong(ctx.holds[i]);
        }
    }

    /**
     * The holds listed by the message that begins at index {@code at} of {@code buf} (see the layout
     * above), by handle; empty when it lists none. For a message encoded here that will not be sent
     * after all: its holds are to be undone. Reads {@code buf} without moving its indexes.
     */
    public static long[] holds(ByteBuf buf, int at) {
        if (buf.writerIndex() - at < PREFIX_LENGTH) {
            return NO_HOLDS;
        }
        byte kind = buf.getByte(at);
        return (kind & HOLDS) == 0 ? NO_HOLDS : listedFrom(buf, at + PREFIX_LENGTH + fixedLength((byte) (kind & ~HOLDS)), 0);
    }

    private static final long[] NO_HOLDS = new long[0];

    /** The bytes of the fixed fields of {@code kind}, between the prefix and the holds. */
    private static int fixedLength(byte kind) {
        return switch (kind) {
            case KIND_CALL, KIND_CALL_CTX, KIND_ACQUIRE -> 16;
            case KIND_GO, KIND_GO_CTX, KIND_LOOKUP -> 8;
            default -> 0;
        };
    }

    /**
     * The holds listed at index {@code at} of {@code buf}, from the {@code from}th on; empty when there
     * are no more, or when the list does not fit in {@code buf} (the message is malformed then, and its
     * reader says so).
     */
    private static long[] listedFrom(ByteBuf buf, int at, int from) {
        if (at < 0 || buf.writerIndex() - at < 4) {
            return NO_HOLDS;
        }
        int n = buf.getInt(at);
        if (n <= from || (long) n * Long.BYTES > buf.writerIndex() - at - 4) {
            return NO_HOLDS;
        }
        long[] handles = new long[n - from];
        for (int i = from; i < n; i++) {
            handles[i - from] = buf.getLong(at + 4 + i * Long.BYTES);
        }
        return handles;
    }

    /**
     * Passes over the holds a message lists, which nobody needs while it is read whole; returns
     * {@code payload}. Refuses a list that does not fit in it.
     */
    private static ByteBuf skipHolds(ByteBuf payload, boolean listed) {
        if (!listed) {
            return payload;
        }
        if (payload.readableBytes() < 4) {
            throw new CodecException("truncated holds list");
        }
        int n = payload.readInt();
        if (n <= 0 || (long) n * Long.BYTES > payload.readableBytes()) {
            throw new CodecException("malformed holds list of " + n + " handles in " + payload.readableBytes() + " bytes");
        }
        return payload.skipBytes(n * Long.BYTES);
    }

    private static void writeContext(Fory fory, MemoryBuffer body, Map<String, String> context) {
        if (context.size() > MAX_CONTEXT_ENTRIES) {
            throw new CodecException("a call context of " + context.size() + " entries is over the limit of "
                + MAX_CONTEXT_ENTRIES);
        }
        body.writeByte(context.size());
        for (Map.Entry<String, String> e : context.entrySet()) {
            writeText(fory, body, e.getKey(), "a call context key");
            writeText(fory, body, e.getValue(), "the call context value of " + e.getKey());
        }
    }

    /** Writes a string of the frame's own (not a value): null has no encoding, and Fory's writer would crash on it. */
    private static void writeText(Fory fory, MemoryBuffer body, String s, String what) {
        if (s == null) {
            throw new CodecException(what + " is null");
        }
        fory.writeString(body, s);
    }

    private static Map<String, String> readContext(MemoryBuffer body) {
        int n = body.readByte() & 0xff;
        if (n == 0 || n > MAX_CONTEXT_ENTRIES) {
            throw new CodecException("call context of " + n + " entries (1 to " + MAX_CONTEXT_ENTRIES + " allowed)");
        }
        Map<String, String> context = new java.util.LinkedHashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            String key = WireReads.readString(body, "a call context key");
            context.put(key, WireReads.readString(body, "a call context value"));
        }
        return context;
    }

    /**
     * Reads one message from {@code payload} (all its readable bytes). Does not release it.
     *
     * @throws CodecException naming the cause when the bytes are malformed, the kind is unknown, or a
     *                        class named in them cannot be loaded here
     */
    public Message decode(ByteBuf payload) {
        return decode(payload, null);
    }

    /**
     * Reads one message that came from {@code peer} (null for a local copy). References in it are
     * bound to this runtime as received from {@code peer} (see {@link References#handlerFor}).
     *
     * @throws CodecException as {@link #decode(ByteBuf)}
     */
    public Message decode(ByteBuf payload, WorkerId peer) {
        if (payload.readableBytes() < PREFIX_LENGTH) {
            throw new CodecException("message of " + payload.readableBytes() + " bytes is shorter than its "
                + PREFIX_LENGTH + "-byte prefix");
        }
        int start = payload.readerIndex();
        byte kindByte = payload.readByte();
        long callId = payload.readLong();
        byte kind = (byte) (kindByte & ~HOLDS);
        boolean listed = (kindByte & HOLDS) != 0;
        if (!isAnswer(kind) && !isRequest(kind) && kind != KIND_RELEASE) {
            throw new CodecException("unknown message kind " + kindByte);
        }
        if (kind == KIND_RELEASE || kind == KIND_ACQUIRE) {
            if (listed) {
                throw new CodecException("a message of kind " + kind + " lists holds, which it cannot carry");
            }
            if (kind == KIND_RELEASE) {
                return readRelease(callId, payload);
            }
        }
        String broken = envelopeFault(payload, kind, callId, listed);
        if (broken != null) {
            throw new CodecException(broken);
        }
        // From here on the message's envelope is sound: whatever its values do as they are read, the call it
        // belongs to fails and the stream is not at fault
        ForyPool.Slot slot = pool.acquire();
        slot.ctx.peer = peer;
        boolean healthy = false;
        try {
            Message m = read(slot, lambdas, kind, callId, payload, listed);
            healthy = true;
            return m;
        } catch (CodecException e) {
            CodecException unreadable = e.beyondReaderLimits() ? e : new CodecException("the message (kind " + kind
                + ", call #" + callId + ") could not be read: " + e.getMessage(), e, true);
            throw unreadable.holding(unread(payload, start, slot.ctx.taken));
        } catch (RuntimeException | LinkageError | AssertionError | StackOverflowError | OutOfMemoryError e) {
            throw failedRead(e, kind, callId).holding(unread(payload, start, slot.ctx.taken));
        } finally {
            // A failed read may leave bad class metadata cached in the instance, which would break
            // later good messages: such an instance is dropped, never pooled again.
            if (healthy) {
                pool.release(slot);
            }
        }
    }

    /**
     * The holds that the message at {@code start} of {@code payload} lists past the first {@code taken}:
     * those of the sender's references that a failed read did not reach (it reads them in the order
     * they were listed).
     */
    private static long[] unread(ByteBuf payload, int start, int taken) {
        byte kind = payload.getByte(start);
        if ((kind & HOLDS) == 0) {
            return NO_HOLDS;
        }
        return listedFrom(payload, start + PREFIX_LENGTH + fixedLength((byte) (kind & ~HOLDS)), taken);
    }

    /** What a read that Fory (or the JVM under it) failed throws: see {@link #decode(ByteBuf, WorkerId)}. */
    private static CodecException failedRead(Throwable e, byte kind, long callId) {
        // Whatever Fory throws on hostile bytes: an index out of bounds, a negative size, a cast, an
        // assertion, a stack too deep, or an allocation the heap refused. The message never
        // concatenates a decoded string as is: one Fory built unsoundly would throw right here.
        String tooDeep = tooDeep(e);
        if (tooDeep != null) {
            return new CodecException("the message (kind " + kind + ", call #" + callId + ") nests values deeper"
                + " than this runtime reads: at most " + ForyPool.MAX_DEPTH + " levels" + tooDeep,
                soundCause(e), true);
        }
        String missing = missingClass(e);
        if (missing != null) {
            return new CodecException("the message (kind " + kind + ", call #" + callId + ") holds a value of class "
                + missing + ", which this runtime cannot load", soundCause(e), true);
        }
        String refusedBy = refusedBy(e);
        if (refusedBy != null) {
            return new CodecException("the message (kind " + kind + ", call #" + callId + ") holds a value of class "
                + refusedBy + " that refused to be read: " + rootMessage(e), soundCause(e), true);
        }
        // Fory could not rebuild a value it wrote (an InetAddress did this), a record's constructor refused
        // it, or the bytes are not Fory's: that call's failure, as the envelope was sound
        return new CodecException("the message (kind " + kind + ", call #" + callId + ") holds a value that could not"
            + " be read: " + rootMessage(e), soundCause(e), true);
    }

    /**
     * Null when the fixed fields of a message of {@code kind} and the list of holds after them fit in
     * {@code payload} (read from after its prefix); otherwise what is wrong. A message whose envelope is
     * broken cannot be answered for sure, nor its holds given back: the stream is at fault, not the call.
     */
    private static String envelopeFault(ByteBuf payload, byte kind, long callId, boolean listed) {
        int fixed = fixedLength(kind);
        if (payload.readableBytes() < fixed) {
            return "truncated message (kind " + kind + ", call #" + callId + "): " + payload.readableBytes()
                + " bytes after its prefix, fewer than its " + fixed + " bytes of fixed fields";
        }
        if (!listed) {
            return null;
        }
        int at = payload.readerIndex() + fixed;
        if (payload.writerIndex() - at < 4) {
            return "truncated holds list (kind " + kind + ", call #" + callId + ")";
        }
        int n = payload.getInt(at);
        if (n <= 0 || (long) n * Long.BYTES > payload.writerIndex() - at - 4) {
            return "malformed holds list of " + n + " handles in " + (payload.writerIndex() - at - 4) + " bytes (kind "
                + kind + ", call #" + callId + ")";
        }
        return null;
    }

    /**
     * Serializes one value as a call argument would be: plain values copied, references kept. The
     * durable store keeps values in this form. The bytes are read back once before they are returned, creating
     * no reference: Fory bounds nesting only when it reads, so a value nested deeper than {@link
     * ForyPool#MAX_DEPTH} would be written, stored, and then fail every read.
     *
     * @throws CodecException naming the value's class when it cannot be serialized, or not read back
     */
    public byte[] encodeValue(Object value) {
        ForyPool.Slot slot = pool.acquire();
        slot.ctx.permanent = true; // stored values outlive every holder: their exports are kept for good
        boolean healthy = false;
        byte[] bytes;
        try {
            slot.fory.serialize(slot.out, value);
            bytes = java.util.Arrays.copyOf(slot.out.getHeapMemory(), slot.out.writerIndex());
            healthy = true;
        } catch (RuntimeException | StackOverflowError e) {
            throw new CodecException("cannot serialize a " + className(value) + ": " + rootMessage(e), e);
        } finally {
            if (healthy) {
                pool.release(slot);
            }
        }
        requireReadable(bytes, value);
        return bytes;
    }

    /** Reads {@code bytes}, written from {@code value}, as {@link #decodeValue} would, making no reference. */
    private void requireReadable(byte[] bytes, Object value) {
        ForyPool.Slot slot = pool.acquire();
        slot.ctx.stored = true;
        slot.ctx.trial = true;
        boolean healthy = false;
        try {
            deserialize(slot, MemoryBuffer.fromByteArray(bytes));
            healthy = true;
        } catch (RuntimeException | LinkageError | AssertionError | StackOverflowError | OutOfMemoryError e) {
            String tooDeep = tooDeep(e);
            throw new CodecException("cannot serialize a " + className(value) + ": " + (tooDeep != null
                ? "it nests values deeper than a runtime reads: at most " + ForyPool.MAX_DEPTH + " levels" + tooDeep
                : "it does not read back: " + rootMessage(e)), soundCause(e));
        } finally {
            if (healthy) {
                pool.release(slot);
            }
        }
    }

    private static String className(Object value) {
        return value == null ? "null" : value.getClass().getName();
    }

    /**
     * Reads a value written by {@link #encodeValue}.
     *
     * @throws CodecException when the bytes are malformed or name a class that cannot be loaded here
     */
    public Object decodeValue(byte[] bytes) {
        ForyPool.Slot slot = pool.acquire();
        slot.ctx.stored = true; // its references come from no peer: References.storedHandlerFor
        boolean healthy = false;
        try {
            Object v = deserialize(slot, MemoryBuffer.fromByteArray(bytes));
            healthy = true;
            return v;
        } catch (RuntimeException | LinkageError | AssertionError | StackOverflowError | OutOfMemoryError e) {
            String tooDeep = tooDeep(e);
            if (tooDeep != null) {
                throw new CodecException("the stored value nests values deeper than this runtime reads: at most "
                    + ForyPool.MAX_DEPTH + " levels" + tooDeep, soundCause(e), true);
            }
            String missing = missingClass(e);
            if (missing != null) {
                throw new CodecException("the stored value holds a value of class " + missing
                    + ", which this runtime cannot load", soundCause(e), true);
            }
            // read by no peer's stream: whatever failed, only this value is lost
            throw new CodecException("the stored value of " + bytes.length + " bytes could not be read: " + rootMessage(e),
                soundCause(e), true);
        } finally {
            if (healthy) {
                pool.release(slot);
            }
        }
    }

    /** Reads a message of {@code kind} from its fixed fields on; {@code listed}: it lists holds after them. */
    private static Message read(ForyPool.Slot slot, Lambdas lambdas, byte kind, long callId, ByteBuf payload,
                                boolean listed) {
        return switch (kind) {
            case KIND_CALL, KIND_CALL_CTX -> {
                long handle = payload.readLong();
                long timeout = payload.readLong();
                MemoryBuffer body = wrap(skipHolds(payload, listed));
                Map<String, String> context = kind == KIND_CALL_CTX ? readContext(body) : Map.of();
                String method = WireReads.readString(body, "the method name");
                yield new Message.Call(callId, handle, method, checkArgs((Object[]) deserialize(slot, body)), timeout,
                    context);
            }
            case KIND_GO, KIND_GO_CTX -> {
                long timeout = payload.readLong();
                MemoryBuffer body = wrap(skipHolds(payload, listed));
                Map<String, String> context = kind == KIND_GO_CTX ? readContext(body) : Map.of();
                byte form = body.readByte();
                Object fn = switch (form) {
                    case FN_LAMBDA -> lambdas.read(body, b -> deserialize(slot, b));
                    case FN_OBJECT -> deserialize(slot, body);
                    default -> throw new CodecException("GO has function form " + form + ", which does not exist");
                };
                if (!(fn instanceof Fn<?> f)) {
                    throw new CodecException("GO carries a " + (fn == null ? "null" : fn.getClass().getName()) + ", not a function");
                }
                yield new Message.Go(callId, f, timeout, context);
            }
            case KIND_LOOKUP -> {
                long timeout = payload.readLong();
                yield new Message.Lookup(callId, WireReads.readString(wrap(skipHolds(payload, listed)), "the service name"),
                    timeout);
            }
            case KIND_ACQUIRE -> new Message.Acquire(callId, payload.readLong(), payload.readLong());
            case KIND_REPLY -> {
                Object value = deserialize(slot, wrap(skipHolds(payload, listed)));
                yield new Message.Reply(callId, value instanceof String s ? WireReads.checkDecoded(s, "the reply") : value);
            }
            case KIND_FAILURE -> {
                Object f = deserialize(slot, wrap(skipHolds(payload, listed)));
                if (!(f instanceof RemoteFailure failure)) {
                    throw new CodecException("FAILURE carries a " + (f == null ? "null" : f.getClass().getName()));
                }
                checkFailure(failure);
                yield new Message.Failure(callId, failure);
            }
            default -> throw new CodecException("unknown message kind " + kind);
        };
    }

    /**
     * Checks the strings among the arguments themselves (not those nested inside them: see the
     * package's known gaps) and makes them canonical, in place. Allocates nothing for sound,
     * canonical strings.
     */
    private static Object[] checkArgs(Object[] args) {
        if (args != null) {
            for (int i = 0; i < args.length; i++) {
                if (args[i] instanceof String s) {
                    if (!WireReads.hasSoundCoder(s)) {
                        throw new CodecException("argument " + i + " is a string whose bytes do not fit its coder");
                    }
                    args[i] = WireReads.canonical(s);
                }
            }
        }
        return args;
    }

    /**
     * Refuses a failure that {@link RemoteFailure#describe} could not have written: the runtime
     * rebuilds and logs it, so its class name, message and frames must be sound strings, and the
     * class name, frames and each frame's class and method must be present. Walks at most
     * {@link #MAX_CAUSES} levels of causes and suppressed exceptions, and refuses more than
     * {@link RemoteFailure#MAX_EXCEPTIONS} exceptions in all (Fory's depth limit bounds the nesting anyway).
     */
    private static void checkFailure(RemoteFailure failure) {
        checkFailure(failure, 0, new int[] {RemoteFailure.MAX_EXCEPTIONS});
    }

    private static void checkFailure(RemoteFailure failure, int depth, int[] left) {
        for (RemoteFailure f = failure; f != null; depth++, f = f.cause()) {
            if (depth > MAX_CAUSES || f.className() == null || f.frames() == null) {
                throw new CodecException("a FAILURE " + (depth > MAX_CAUSES ? "nests causes deeper than " + MAX_CAUSES
                    : "lacks its class name or frames"));
            }
            if (--left[0] < 0) {
                throw new CodecException("a FAILURE describes more than " + RemoteFailure.MAX_EXCEPTIONS + " exceptions");
            }
            if (!WireReads.hasSoundCoder(f.className()) || f.message() != null && !WireReads.hasSoundCoder(f.message())
                || f.detail() != null && !WireReads.hasSoundCoder(f.detail())) {
                throw new CodecException("a FAILURE's class name or message is a string whose bytes do not fit its coder");
            }
            checkFields(f);
            for (RemoteFailure.Frame frame : f.frames()) {
                if (frame == null || frame.declaringClass() == null || frame.methodName() == null
                    || !WireReads.hasSoundCoder(frame.declaringClass()) || !WireReads.hasSoundCoder(frame.methodName())
                    || frame.fileName() != null && !WireReads.hasSoundCoder(frame.fileName())) {
                    throw new CodecException("a FAILURE has a frame that lacks its class or method, or whose strings do not fit their coder");
                }
            }
            if (f.suppressed() != null) {
                if (f.suppressed().length > RemoteFailure.MAX_EXCEPTIONS) {
                    throw new CodecException("a FAILURE describes more than " + RemoteFailure.MAX_EXCEPTIONS + " exceptions");
                }
                for (RemoteFailure s : f.suppressed()) {
                    if (s == null) {
                        throw new CodecException("a FAILURE has a null suppressed exception");
                    }
                    checkFailure(s, depth + 1, left);
                }
            }
        }
    }

    /** Refuses fields that {@link RemoteFailure#describe} could not have written: names with values of simple kinds. */
    private static void checkFields(RemoteFailure f) {
        if (f.fieldNames() == null && f.fieldValues() == null) {
            return;
        }
        if (f.fieldNames() == null || f.fieldValues() == null || f.fieldNames().length != f.fieldValues().length
            || f.fieldNames().length > RemoteFailure.MAX_FIELDS) {
            throw new CodecException("a FAILURE's fields are not up to " + RemoteFailure.MAX_FIELDS + " names paired with values");
        }
        for (int i = 0; i < f.fieldNames().length; i++) {
            String name = f.fieldNames()[i];
            Object value = f.fieldValues()[i];
            if (name == null || !WireReads.hasSoundCoder(name) || !RemoteFailure.isFieldValue(value)
                || value instanceof String v && (v.length() > RemoteFailure.MAX_FIELD_CHARS || !WireReads.hasSoundCoder(v))) {
                throw new CodecException("a FAILURE has a field without a sound name or with a value of a kind that does not travel");
            }
        }
    }

    /** Fory's read of one value, after {@link MetaGuard} has checked the class definitions it will read. */
    private static Object deserialize(ForyPool.Slot slot, MemoryBuffer body) {
        MetaGuard.checkBody(body, slot.metaCursor, slot.classDefIds, slot.ctx.peer);
        return slot.fory.deserialize(body);
    }

    /** A release names exports by plain longs: kind, call id, count n, then n (handle, count) pairs. */
    private static void writeRelease(Message.Release r, ByteBuf out) {
        if (r.handles().length != r.counts().length || r.handles().length > MAX_RELEASE_ENTRIES) {
            throw new CodecException("a release must pair at most " + MAX_RELEASE_ENTRIES + " handles with counts, not "
                + r.handles().length + " with " + r.counts().length);
        }
        out.writeByte(KIND_RELEASE).writeLong(r.callId()).writeInt(r.handles().length);
        for (int i = 0; i < r.handles().length; i++) {
            out.writeLong(r.handles()[i]).writeLong(r.counts()[i]);
        }
    }

    private static Message.Release readRelease(long callId, ByteBuf payload) {
        if (payload.readableBytes() < 4) {
            throw new CodecException("truncated release");
        }
        int n = payload.readInt();
        if (n < 0 || n > MAX_RELEASE_ENTRIES || payload.readableBytes() != n * 16L) {
            throw new CodecException("malformed release of " + n + " entries in " + payload.readableBytes() + " bytes");
        }
        long[] handles = new long[n];
        long[] counts = new long[n];
        for (int i = 0; i < n; i++) {
            handles[i] = payload.readLong();
            counts[i] = payload.readLong();
        }
        return new Message.Release(callId, handles, counts);
    }

    /** A Fory view of the payload's readable bytes, without copying where the memory allows. */
    private static MemoryBuffer wrap(ByteBuf payload) {
        int length = payload.readableBytes();
        if (payload.hasArray()) {
            return MemoryBuffer.fromByteArray(payload.array(), payload.arrayOffset() + payload.readerIndex(), length);
        }
        if (payload.hasMemoryAddress()) {
            return MemoryBuffer.fromNativeAddress(payload.memoryAddress() + payload.readerIndex(), length);
        }
        byte[] copy = new byte[length];
        payload.getBytes(payload.readerIndex(), copy);
        return MemoryBuffer.fromByteArray(copy);
    }

    private static String describe(Message m) {
        return switch (m) {
            case Message.Call c -> "the arguments of " + c.method();
            case Message.Go g -> describeFunction(g.fn());
            case Message.Lookup l -> "the lookup of " + l.service();
            case Message.Reply r -> "the result (" + (r.value() == null ? "null" : r.value().getClass().getName()) + ")";
            case Message.Failure f -> "the exception " + f.failure().className();
            case Message.Acquire a -> "the acquire of export #" + a.handle();
            case Message.Release r -> "a release of " + r.handles().length + " exports";
        };
    }

    /** A lambda by where it was written and what it captures: its own class name says neither. */
    private static String describeFunction(Object fn) {
        SerializedLambda parts;
        try {
            parts = Lambdas.partsOf(fn);
        } catch (RuntimeException | Error e) {
            parts = null;
        }
        return parts == null ? "the function " + fn.getClass().getName()
            : "the function (a lambda in " + parts.getCapturingClass().replace('/', '.') + ", which captures "
                + Lambdas.capturedTypes(parts) + ")";
    }

    /**
     * Null unless {@code e} is Fory's refusal of input nested past {@link ForyPool#MAX_DEPTH} (then "")
     * or the stack running out while reading (then what to add about it).
     */
    private static String tooDeep(Throwable e) {
        Throwable t = e;
        for (int i = 0; i < MAX_CAUSES && t != null; i++, t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StackOverflowError) {
                return ", and fewer than the reading thread's stack held";
            }
            if (t instanceof org.apache.fory.exception.InsecureException && String.valueOf(messageOf(t)).contains("max depth")) {
                return "";
            }
        }
        return null;
    }

    /**
     * The name, quoted safely, of a class that {@code e} says could not be loaded here, or null. Such a
     * message is well formed (its frame, and the stream after it, are sound); only its value cannot be
     * made here, as when the sender has a class or a version of its code that this runtime lacks.
     */
    private static String missingClass(Throwable e) {
        Throwable t = e;
        for (int i = 0; i < MAX_CAUSES && t != null; i++, t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ClassNotFoundException || t instanceof NoClassDefFoundError) {
                String name = messageOf(t);
                return name == null ? "(unnamed)" : WireReads.quote(name);
            }
        }
        return null;
    }

    /** The methods by which a class reads, checks or replaces its own instances as they are deserialized. */
    private static final java.util.Set<String> READ_HOOKS = java.util.Set.of("readObject", "readObjectNoData",
        "readResolve", "readExternal");

    /**
     * The class whose own read hook ({@code readObject}, {@code readResolve}, {@code readExternal})
     * threw {@code e} or one of its causes, or null. Such a class checks its values as they are read
     * (an {@code InvalidObjectException} for a value it does not accept): the message was well formed
     * and only that value is refused. A failure thrown inside Fory's own code, even while a hook runs
     * (its {@code defaultReadObject} reading bad bytes), is not the class's and is not counted.
     */
    private static String refusedBy(Throwable e) {
        Throwable t = e;
        for (int i = 0; i < MAX_CAUSES && t != null; i++, t = t.getCause() == t ? null : t.getCause()) {
            for (StackTraceElement f : t.getStackTrace()) { // from where it was thrown, outwards
                if (f.getClassName().startsWith("org.apache.fory.")) {
                    break; // Fory's failure, not the value's; perhaps a cause was thrown by the value
                }
                if (READ_HOOKS.contains(f.getMethodName())) {
                    return f.getClassName();
                }
            }
        }
        return null;
    }

    /** The innermost cause's class and message, the message quoted safely (see {@link WireReads#quote}). */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        for (int i = 0; i < MAX_CAUSES && t.getCause() != null && t.getCause() != t; i++) {
            t = t.getCause();
        }
        String msg = messageOf(t);
        return t.getClass().getSimpleName() + (msg == null ? "" : ": " + WireReads.quote(msg));
    }

    /**
     * {@code e}, or a stand-in with its class name, quoted message and stack when a message in its
     * chain is an unsound string (Fory puts decoded text into its exception messages): a logger that
     * printed the original would throw, or print garbage.
     */
    private static Throwable soundCause(Throwable e) {
        Throwable t = e;
        for (int i = 0; i < MAX_CAUSES && t != null; i++, t = t.getCause() == t ? null : t.getCause()) {
            String msg = messageOf(t);
            if (!WireReads.isSound(msg)) {
                RuntimeException standIn = new RuntimeException(t.getClass().getName() + " with a malformed message: "
                    + WireReads.quote(msg));
                standIn.setStackTrace(t.getStackTrace());
                return standIn;
            }
        }
        return e;
    }

    private static String messageOf(Throwable t) {
        try {
            return t.getMessage();
        } catch (RuntimeException unprintable) {
            return "<message unavailable: " + unprintable.getClass().getSimpleName() + ">";
        }
    }
}
