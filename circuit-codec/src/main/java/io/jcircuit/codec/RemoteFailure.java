package io.jcircuit.codec;

import io.jcircuit.RemoteException;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An exception described for the wire: class name, message and stack, and its cause and suppressed
 * exceptions, described the same way. Exceptions travel as descriptions rather than serialized objects
 * so that any exception, serializable or not, reaches the caller, and one whose class the caller lacks
 * still arrives. The exception's own fields of simple types (primitives, their boxes and strings; not
 * {@code static} or {@code transient}), in its classes below {@code Throwable}, travel by value and are
 * set on the exception made again, so that an {@code SQLException}'s SQL state or an error code arrives
 * as the callee had it, not as a constructor given the message would set it; fields of other types do
 * not travel.
 *
 * @param className  the remote exception's class
 * @param message    its message, possibly {@code null}
 * @param frames     its stack, innermost first
 * @param cause      its cause, or {@code null}
 * @param suppressed its suppressed exceptions ({@link Throwable#getSuppressed}), or {@code null} for none
 *                   (a peer of a build from before they travelled sends none)
 * @param detail     the message it was made with, when its {@code getMessage()} says more than that
 *                   (a class that adds to its message); {@code null} otherwise, and from a peer of a
 *                   build from before it travelled
 * @param fieldNames  its fields that travel, as {@code DeclaringClass#name}; {@code null} for none (and from
 *                    a peer of a build from before they travelled)
 * @param fieldValues their values, in the same order: boxed primitives, strings or null
 */
public record RemoteFailure(String className, String message, Frame[] frames, RemoteFailure cause,
                            RemoteFailure[] suppressed, String detail, String[] fieldNames, Object[] fieldValues) {

    /** Causes nest at most this deep on the wire; deeper ones are cut. */
    private static final int MAX_CAUSE_DEPTH = 8;
    /**
     * At most this many exceptions in one description, causes and suppressed ones together; the
     * suppressed ones past it are left out (the causes, at most {@value #MAX_CAUSE_DEPTH}, come first).
     */
    public static final int MAX_EXCEPTIONS = 32;

    /** A failure with no suppressed exceptions. */
    public RemoteFailure(String className, String message, Frame[] frames, RemoteFailure cause) {
        this(className, message, frames, cause, null);
    }

    /** A failure whose {@code getMessage()} is the message it was made with. */
    public RemoteFailure(String className, String message, Frame[] frames, RemoteFailure cause, RemoteFailure[] suppressed) {
        this(className, message, frames, cause, suppressed, null);
    }

    /** A failure with no fields that travel. */
    public RemoteFailure(String className, String message, Frame[] frames, RemoteFailure cause, RemoteFailure[] suppressed,
                         String detail) {
        this(className, message, frames, cause, suppressed, detail, null, null);
    }

    /** At most this many fields of one exception travel; those past it are left out. */
    public static final int MAX_FIELDS = 32;
    /** A string field longer than this does not travel. */
    public static final int MAX_FIELD_CHARS = 8_192;

    /** The classes of the values a field that travels holds besides null: the boxes and {@code String}, all final. */
    private static final java.util.Set<Class<?>> FIELD_VALUE_CLASSES = java.util.Set.of(String.class, Integer.class,
        Long.class, Boolean.class, Double.class, Float.class, Short.class, Byte.class, Character.class);

    /** Whether {@code value} is of a kind a field that travels may hold. */
    static boolean isFieldValue(Object value) {
        return value == null || FIELD_VALUE_CLASSES.contains(value.getClass());
    }

    /** Whether a field of {@code type} travels: a primitive, its box, or a string. */
    private static boolean travels(Class<?> type) {
        return type.isPrimitive() || FIELD_VALUE_CLASSES.contains(type);
    }

    /**
     * The fields of {@code t} that travel, read through Fory's {@code Platform} (a JDK exception's fields are
     * not accessible otherwise), as names and values; null when there are none or they cannot be read.
     */
    private static Object[][] fieldsOf(Throwable t) {
        if (t instanceof RemoteException re) {
            // passed on as it came, so that the caller's caller sees what the original thrower's fields were
            Map<String, Object> f = re.remoteFields();
            return f.isEmpty() ? null : new Object[][] {f.keySet().toArray(String[]::new), f.values().toArray()};
        }
        List<String> names = new ArrayList<>();
        List<Object> values = new ArrayList<>();
        try {
            for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
                for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                    int m = f.getModifiers();
                    if (java.lang.reflect.Modifier.isStatic(m) || java.lang.reflect.Modifier.isTransient(m)
                        || f.isSynthetic() || !travels(f.getType())) {
                        continue;
                    }
                    Object v = read(t, f);
                    if (v instanceof String str && str.length() > MAX_FIELD_CHARS) {
                        continue;
                    }
                    if (names.size() == MAX_FIELDS) {
                        break;
                    }
                    names.add(c.getName() + "#" + f.getName());
                    values.add(v);
                }
            }
        } catch (RuntimeException | LinkageError unreadable) {
            return null; // fields that cannot be read do not travel; the rest of the description does
        }
        return names.isEmpty() ? null : new Object[][] {names.toArray(String[]::new), values.toArray()};
    }

    private static Object read(Object o, java.lang.reflect.Field f) {
        long at = org.apache.fory.memory.Platform.objectFieldOffset(f);
        Class<?> type = f.getType();
        if (!type.isPrimitive()) {
            return org.apache.fory.memory.Platform.getObject(o, at);
        } else if (type == int.class) {
            return org.apache.fory.memory.Platform.getInt(o, at);
        } else if (type == long.class) {
            return org.apache.fory.memory.Platform.getLong(o, at);
        } else if (type == boolean.class) {
            return org.apache.fory.memory.Platform.getBoolean(o, at);
        } else if (type == double.class) {
            return org.apache.fory.memory.Platform.getDouble(o, at);
        } else if (type == float.class) {
            return org.apache.fory.memory.Platform.getFloat(o, at);
        } else if (type == short.class) {
            return org.apache.fory.memory.Platform.getShort(o, at);
        } else if (type == byte.class) {
            return org.apache.fory.memory.Platform.getByte(o, at);
        } else {
            return org.apache.fory.memory.Platform.getChar(o, at);
        }
    }

    /**
     * {@code t}, made by {@code maker} from {@code text}, with the fields that travelled set on it, when it then
     * says what the original said; a class whose message is built from its fields (an error code) comes back
     * saying it so, and one built from its fields and the text it was made with (a {@code FileSystemException}:
     * its file, and its reason as that text) gets that text back too. One that said what the original said
     * only without them is made again and left as made; otherwise null. {@code t} is made once in the usual
     * case, so a constructor with side effects runs once.
     */
    private Throwable fitted(Throwable t, Maker maker, String text) throws ReflectiveOperationException {
        boolean said = saysWhatTheOriginalSaid(t);
        if (fieldNames == null) {
            return said ? t : null;
        }
        setFields(t);
        if (!saysWhatTheOriginalSaid(t) && detail != null && DETAIL_OFFSET >= 0) {
            org.apache.fory.memory.Platform.putObject(t, DETAIL_OFFSET, detail);
        }
        if (saysWhatTheOriginalSaid(t)) {
            return t;
        }
        if (!said) {
            return null;
        }
        Throwable plain = maker.make(text); // the fields make it say something else: without them, as made
        return saysWhatTheOriginalSaid(plain) ? plain : null;
    }

    /**
     * Sets on {@code t}, made again, the fields that travelled: each one that {@code t}'s class declares
     * (by its declaring class's name and its own) with a type that takes its value. Others are skipped.
     */
    private void setFields(Throwable t) {
        if (fieldNames == null || fieldValues == null || fieldNames.length != fieldValues.length) {
            return;
        }
        for (int i = 0; i < fieldNames.length; i++) {
            String name = fieldNames[i];
            int hash = name == null ? -1 : name.indexOf('#');
            if (hash <= 0) {
                continue;
            }
            try {
                for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
                    if (c.getName().equals(name.substring(0, hash))) {
                        write(t, c.getDeclaredField(name.substring(hash + 1)), fieldValues[i]);
                        break;
                    }
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError skipped) {
                // a field this side's class does not have, or of another type: left as the constructor set it
            }
        }
    }

    private static void write(Object o, java.lang.reflect.Field f, Object v) {
        int m = f.getModifiers();
        Class<?> type = f.getType();
        if (java.lang.reflect.Modifier.isStatic(m) || java.lang.reflect.Modifier.isTransient(m) || !travels(type)) {
            return;
        }
        long at = org.apache.fory.memory.Platform.objectFieldOffset(f);
        if (!type.isPrimitive()) {
            if (v == null || type.isInstance(v)) {
                org.apache.fory.memory.Platform.putObject(o, at, v);
            }
        } else if (type == int.class && v instanceof Integer x) {
            org.apache.fory.memory.Platform.putInt(o, at, x);
        } else if (type == long.class && v instanceof Long x) {
            org.apache.fory.memory.Platform.putLong(o, at, x);
        } else if (type == boolean.class && v instanceof Boolean x) {
            org.apache.fory.memory.Platform.putBoolean(o, at, x);
        } else if (type == double.class && v instanceof Double x) {
            org.apache.fory.memory.Platform.putDouble(o, at, x);
        } else if (type == float.class && v instanceof Float x) {
            org.apache.fory.memory.Platform.putFloat(o, at, x);
        } else if (type == short.class && v instanceof Short x) {
            org.apache.fory.memory.Platform.putShort(o, at, x);
        } else if (type == byte.class && v instanceof Byte x) {
            org.apache.fory.memory.Platform.putByte(o, at, x);
        } else if (type == char.class && v instanceof Character x) {
            org.apache.fory.memory.Platform.putChar(o, at, x);
        }
    }

    /**
     * Where {@code Throwable} keeps the message it was made with, read through Fory's {@code Platform}
     * (the field is not accessible otherwise); -1 when that cannot be done.
     */
    private static final long DETAIL_OFFSET = detailOffset();

    private static long detailOffset() {
        try {
            return org.apache.fory.memory.Platform.objectFieldOffset(Throwable.class.getDeclaredField("detailMessage"));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return -1;
        }
    }

    /**
     * The message {@code t} was made with, when its {@code getMessage()} adds to it (holds it and more);
     * else null. Not when {@code getMessage()} shortens or hides it: what a class chose not to show
     * does not travel.
     */
    private static String detailOf(Throwable t, String message) {
        if (DETAIL_OFFSET < 0 || message == null || t instanceof RemoteException) {
            return null;
        }
        Object detail = org.apache.fory.memory.Platform.getObject(t, DETAIL_OFFSET);
        return detail instanceof String d && !d.equals(message) && message.contains(d) ? d : null;
    }

    /** One stack frame. */
    public record Frame(String declaringClass, String methodName, String fileName, int lineNumber) {
        StackTraceElement toElement() {
            return new StackTraceElement(declaringClass, methodName, fileName, lineNumber);
        }
    }

    /**
     * Describes {@code t}, up to {@value #MAX_CAUSE_DEPTH} of its causes, and their suppressed exceptions,
     * {@value #MAX_EXCEPTIONS} exceptions at most. Never throws: what an exception class of the
     * application's own says about itself ({@code getMessage}, {@code getStackTrace}, {@code getCause})
     * may throw, or recurse until the stack runs out. A message that cannot be read is described by
     * {@link #unreadable}, which names what its method threw; a stack or cause that cannot be read is
     * left out; a cause that comes back (a cycle) is described once.
     */
    public static RemoteFailure describe(Throwable t) {
        int[] left = {MAX_EXCEPTIONS - 1};
        return describe(t, 0, left, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
    }

    private static RemoteFailure describe(Throwable t, int depth, int[] left, java.util.Set<Throwable> seen) {
        seen.add(t);
        Frame[] frames = framesOf(t);
        Throwable cause = causeOf(t);
        RemoteFailure c = null;
        if (cause != null && !seen.contains(cause) && depth < MAX_CAUSE_DEPTH && left[0] > 0) {
            left[0]--;
            c = describe(cause, depth + 1, left, seen);
        }
        List<RemoteFailure> suppressed = new ArrayList<>();
        for (Throwable s : t.getSuppressed()) { // final in Throwable: no class of the application's runs here
            if (left[0] <= 0 || depth >= MAX_CAUSE_DEPTH) {
                break;
            }
            if (!seen.contains(s)) {
                left[0]--;
                suppressed.add(describe(s, depth + 1, left, seen));
            }
        }
        String className = className(t);
        String message;
        String detail;
        try {
            message = t instanceof RemoteException re ? re.remoteMessage() : t.getMessage();
            detail = detailOf(t, message);
        } catch (Throwable unreadable) {
            message = unreadable(unreadable);
            detail = null;
        }
        Object[][] fields = fieldsOf(t);
        return new RemoteFailure(className, message, frames, c,
            suppressed.isEmpty() ? null : suppressed.toArray(RemoteFailure[]::new), detail,
            fields == null ? null : (String[]) fields[0], fields == null ? null : fields[1]);
    }

    /**
     * The message that stands for one that could not be read: its {@code getMessage()} threw
     * {@code thrown}, which is named by its class alone (its own message could throw as well).
     */
    static String unreadable(Throwable thrown) {
        return "(its message could not be read: getMessage() threw " + thrown.getClass().getName() + ")";
    }

    private static String className(Throwable t) {
        if (t instanceof RemoteException re) {
            try {
                String remote = re.remoteClassName(); // a subclass of the application's may override it
                if (remote != null) {
                    return remote;
                }
            } catch (Throwable ignored) {
                // its own class, then
            }
        }
        return t.getClass().getName();
    }

    /** {@code t}'s stack, or none when it cannot be read; frames that are null are left out. */
    private static Frame[] framesOf(Throwable t) {
        StackTraceElement[] stack;
        try {
            stack = t.getStackTrace();
        } catch (Throwable unreadable) {
            return new Frame[0];
        }
        if (stack == null) {
            return new Frame[0];
        }
        List<Frame> frames = new ArrayList<>(stack.length);
        for (StackTraceElement e : stack) {
            if (e != null) {
                frames.add(new Frame(e.getClassName(), e.getMethodName(), e.getFileName(), e.getLineNumber()));
            }
        }
        return frames.toArray(Frame[]::new);
    }

    /** {@code t}'s cause, or null when it has none or it cannot be read. */
    private static Throwable causeOf(Throwable t) {
        try {
            return t.getCause();
        } catch (Throwable unreadable) {
            return null;
        }
    }

    /**
     * {@code t}'s class and message as {@code Throwable.toString} shows them, for a log line or the
     * reason a link closed; never throws, whatever {@code t}'s class does.
     */
    public static String summary(Throwable t) {
        String message;
        try {
            message = t.getLocalizedMessage();
        } catch (Throwable unreadable) {
            message = unreadable(unreadable);
        }
        return message == null ? t.getClass().getName() : t.getClass().getName() + ": " + message;
    }

    /**
     * Rebuilds the exception for the caller: an instance of the original class when {@code loader}
     * can load it and it has a {@code (String)}, {@code (String, Throwable)} or {@code ()}
     * constructor, otherwise a {@link RemoteException}. The stack is the remote frames, a marker frame
     * naming {@code where}, then {@code localFrames}.
     */
    public Throwable rebuild(ClassLoader loader, String where, StackTraceElement[] localFrames) {
        Throwable cause = this.cause == null ? null : this.cause.rebuild(loader, where, new StackTraceElement[0]);
        Throwable t = instantiate(loader, cause);
        List<StackTraceElement> stack = new ArrayList<>(frames.length + 1 + localFrames.length);
        for (Frame f : frames) {
            stack.add(f.toElement());
        }
        if (localFrames.length > 0) {
            stack.add(new StackTraceElement("<circuit>", "<" + where + ">", null, -1));
            stack.addAll(Arrays.asList(localFrames));
        }
        t.setStackTrace(stack.toArray(StackTraceElement[]::new));
        if (suppressed != null) {
            for (RemoteFailure s : suppressed) {
                if (s != null) {
                    t.addSuppressed(s.rebuild(loader, where, new StackTraceElement[0]));
                }
            }
        }
        return t;
    }

    private Throwable instantiate(ClassLoader loader, Throwable cause) {
        try {
            Class<?> c = Class.forName(className, false, loader);
            if (Throwable.class.isAssignableFrom(c) && !RemoteException.class.isAssignableFrom(c)) {
                Class<? extends Throwable> k = c.asSubclass(Throwable.class);
                // Made with what the original was made with, a class that adds to its message shows
                // it once; kept only when it then says what the original said. A class that adds
                // from fields no constructor here sets (a FileSystemException's file) is made with
                // the whole message instead, as before.
                if (detail != null) {
                    Throwable t = construct(k, cause, detail);
                    if (t != null && java.util.Objects.equals(messageOf(t), message)) {
                        return t;
                    }
                }
                Throwable t = construct(k, cause, message);
                if (t != null) {
                    return t;
                }
                // none makes one that says what the original said: a constructor that adds to the text it
                // is given ("no user " + id) would say it twice
            }
        } catch (ClassNotFoundException | LinkageError notHere) {
            // fall through: the caller gets a RemoteException that names the class
        }
        return new RemoteException(className, message, cause, fieldMap());
    }

    /** The fields that travelled, by name, in the order they came; empty for none. */
    private Map<String, Object> fieldMap() {
        if (fieldNames == null || fieldValues == null || fieldNames.length != fieldValues.length) {
            return Map.of();
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < fieldNames.length; i++) {
            if (fieldNames[i] != null && isFieldValue(fieldValues[i])) {
                m.putIfAbsent(fieldNames[i], fieldValues[i]);
            }
        }
        return m;
    }

    /**
     * An exception of class {@code c} made from {@code message} (and {@code cause}) by the first public
     * constructor that takes them and makes one whose message is {@link #message}, or null.
     */
    private Throwable construct(Class<? extends Throwable> c, Throwable cause, String message) {
        try {
            Constructor<? extends Throwable> k = c.getConstructor(String.class, Throwable.class);
            Throwable t = remade(text -> k.newInstance(text, cause), message);
            if (t != null) {
                return t;
            }
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // try the next shape
        }
        if (cause != null) {
            // (String, a narrower cause), such as UncheckedIOException(String, IOException)
            for (Constructor<?> k : c.getConstructors()) {
                Class<?>[] p = k.getParameterTypes();
                if (p.length == 2 && p[0] == String.class && Throwable.class.isAssignableFrom(p[1]) && p[1].isInstance(cause)) {
                    try {
                        Throwable t = remade(text -> (Throwable) k.newInstance(text, cause), message);
                        if (t != null) {
                            return t;
                        }
                    } catch (ReflectiveOperationException | RuntimeException ignored) {
                        // try the next one
                    }
                }
            }
        }
        try {
            Constructor<? extends Throwable> k = c.getConstructor(String.class);
            Throwable t = remade(k::newInstance, message);
            if (t != null) {
                if (cause != null && t.getCause() == null) {
                    t.initCause(cause);
                }
                return t;
            }
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // try the next shape
        }
        try {
            // also one that makes its own message ("Fixed() { super("fixed message"); }"): the same message
            Constructor<? extends Throwable> k = c.getConstructor();
            Throwable t = fitted(k.newInstance(), text -> k.newInstance(), null);
            if (t != null) {
                if (cause != null && t.getCause() == null) {
                    t.initCause(cause);
                }
                return t;
            }
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // give up: RemoteException
        }
        return null;
    }

    /** A constructor of one exception class, given the text of its message. */
    private interface Maker {
        Throwable make(String text) throws ReflectiveOperationException;
    }

    /**
     * An exception made by {@code maker} that says {@link #message}, or null. Made from the whole message
     * first; a class that adds to the text it is given ({@code super("no user " + id)}) then says it
     * twice, so it is made again from the message without what the class added, when the message has
     * that around it.
     */
    private Throwable remade(Maker maker, String message) throws ReflectiveOperationException {
        Throwable t = maker.make(message);
        Throwable fit = fitted(t, maker, message);
        if (fit != null) {
            return fit;
        }
        String made = messageOf(t); // with the fields that travelled, which the one made again gets too
        int at = message == null || made == null ? -1 : made.indexOf(message);
        if (at < 0 || made.length() == message.length()) {
            return null;
        }
        String before = made.substring(0, at);
        String after = made.substring(at + message.length());
        if (message.length() < before.length() + after.length() || !message.startsWith(before) || !message.endsWith(after)) {
            return null;
        }
        String text = message.substring(before.length(), message.length() - after.length());
        return fitted(maker.make(text), maker, text);
    }

    /** {@code t}'s message, or null when its {@code getMessage} (the class's own, maybe) throws or recurses. */
    private static String messageOf(Throwable t) {
        try {
            return t.getMessage();
        } catch (RuntimeException | StackOverflowError e) {
            return null;
        }
    }

    /** Whether {@code t}'s message is the original's; getMessage may be the class's own and may throw. */
    private boolean saysWhatTheOriginalSaid(Throwable t) {
        try {
            return java.util.Objects.equals(t.getMessage(), this.message);
        } catch (RuntimeException | StackOverflowError e) {
            return false;
        }
    }
}
