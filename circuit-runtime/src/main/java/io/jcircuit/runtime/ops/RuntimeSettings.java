package io.jcircuit.runtime.ops;

import io.jcircuit.Setting;
import io.jcircuit.Settings;
import io.jcircuit.Subscription;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The {@link Settings} of one runtime: the application's typed settings, and the {@code log.*} keys,
 * which {@link LogControl} maps to logger levels.
 */
public final class RuntimeSettings implements Settings {

    /** Keys: letters, digits, '.', '_' and '-', starting with a letter, at most 128 characters. */
    private static final Pattern KEY = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,127}");
    private static final List<Class<?>> TYPES = List.of(String.class, Boolean.class, Integer.class, Long.class,
        Double.class, Duration.class);

    private final ConcurrentHashMap<String, Value<?>> values = new ConcurrentHashMap<>();
    private final LogControl logs;

    public RuntimeSettings(LogControl logs) {
        this.logs = Objects.requireNonNull(logs, "logs");
    }

    @Override
    public <T> Setting<T> define(String key, Class<T> type, T initial, Function<? super T, String> validator) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(validator, "validator");
        if (key == null || !KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("setting key '" + key + "' is malformed: use letters, digits, '.', '_' "
                + "and '-', starting with a letter, at most 128 characters");
        }
        if (key.startsWith(LogControl.PREFIX)) {
            throw new IllegalArgumentException("setting key '" + key + "': keys under '" + LogControl.PREFIX
                + "' are the logger levels");
        }
        if (!TYPES.contains(type) && !type.isEnum()) {
            throw new IllegalArgumentException("setting '" + key + "' has type " + type.getName()
                + "; settings are String, Boolean, Integer, Long, Double, Duration or an enum");
        }
        Value<T> v = new Value<>(key, type, validator);
        v.check(initial);
        v.value = initial;
        if (values.putIfAbsent(key, v) != null) {
            throw new IllegalArgumentException("setting '" + key + "' is already defined");
        }
        return v;
    }

    @Override
    public Optional<Setting<?>> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    @Override
    public Map<String, String> values() {
        Map<String, String> all = new TreeMap<>();
        values.forEach((k, v) -> all.put(k, format(v.get())));
        all.putAll(logs.levels());
        return all;
    }

    /** The defined settings with their types, for {@code circuit get -l}. */
    public Map<String, String> types() {
        Map<String, String> all = new TreeMap<>();
        values.forEach((k, v) -> all.put(k, v.type().getSimpleName()));
        logs.levels().keySet().forEach(k -> all.put(k, "level"));
        return all;
    }

    @Override
    public String set(String key, String text) {
        Objects.requireNonNull(text, "text");
        if (key != null && key.startsWith(LogControl.PREFIX)) {
            return logs.set(key, text);
        }
        Value<?> v = values.get(key);
        if (v == null) {
            throw unknown(key);
        }
        return v.setText(text);
    }

    @Override
    public String get(String key) {
        if (key != null && key.startsWith(LogControl.PREFIX)) {
            return logs.get(key);
        }
        Value<?> v = values.get(key);
        if (v == null) {
            throw unknown(key);
        }
        return format(v.get());
    }

    private IllegalArgumentException unknown(String key) {
        List<String> known = new ArrayList<>(new TreeMap<>(values).keySet());
        return new IllegalArgumentException("no setting '" + key + "'; defined: "
            + (known.isEmpty() ? "none" : String.join(", ", known)) + ", and " + LogControl.PREFIX + "LOGGER for log levels");
    }

    static String format(Object value) {
        return String.valueOf(value);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static <T> T parse(Class<T> type, String text) {
        String t = text.trim();
        try {
            Object v;
            if (type == String.class) {
                v = text;
            } else if (type == Boolean.class) {
                if (!t.equalsIgnoreCase("true") && !t.equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException("'" + text + "' is not true or false");
                }
                v = Boolean.valueOf(t);
            } else if (type == Integer.class) {
                v = Integer.valueOf(t);
            } else if (type == Long.class) {
                v = Long.valueOf(t);
            } else if (type == Double.class) {
                v = Double.valueOf(t);
            } else if (type == Duration.class) {
                v = parseDuration(t);
            } else if (type.isEnum()) {
                // by name, whatever its case: an exact match first, as constants may differ only in case
                Object exact = null;
                Object unique = null;
                int matches = 0;
                for (Object c : type.getEnumConstants()) {
                    String n = ((Enum<?>) c).name();
                    if (n.equals(t)) {
                        exact = c;
                    } else if (n.equalsIgnoreCase(t)) {
                        unique = c;
                        matches++;
                    }
                }
                if (exact == null && matches != 1) {
                    throw new IllegalArgumentException("'" + text + "' is not one of "
                        + java.util.Arrays.toString(type.getEnumConstants()));
                }
                v = exact != null ? exact : unique;
            } else {
                throw new IllegalArgumentException("unsupported type " + type.getName());
            }
            return (T) v;
        } catch (NumberFormatException e) {
            String name = type.getSimpleName();
            String article = "AEIOU".indexOf(Character.toUpperCase(name.charAt(0))) >= 0 ? "an " : "a ";
            throw new IllegalArgumentException("'" + text + "' is not " + article + name, e);
        } catch (IllegalArgumentException e) {
            if (type.isEnum() && !(e.getMessage() != null && e.getMessage().startsWith("'"))) {
                throw new IllegalArgumentException("'" + text + "' is not one of "
                    + java.util.Arrays.toString(type.getEnumConstants()), e);
            }
            throw e;
        }
    }

    /** ISO-8601 ({@code PT2S}) or a number with a unit: {@code 250ms}, {@code 2s}, {@code 5m}, {@code 1h}. */
    private static Duration parseDuration(String t) {
        var m = Pattern.compile("(\\d+)\\s*(ms|s|m|h)").matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
        try {
            return Duration.parse(t);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + t + "' is not a duration (250ms, 2s, 5m, 1h or PT2S)", e);
        }
    }

    private static final class Value<T> implements Setting<T> {
        private final String key;
        private final Class<T> type;
        private final Function<? super T, String> validator;
        private final CopyOnWriteArrayList<Consumer<? super T>> listeners = new CopyOnWriteArrayList<>();
        private volatile T value;

        Value(String key, Class<T> type, Function<? super T, String> validator) {
            this.key = key;
            this.type = type;
            this.validator = validator;
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public Class<T> type() {
            return type;
        }

        @Override
        public T get() {
            return value;
        }

        void check(T v) {
            if (!type.isInstance(v)) {
                throw new IllegalArgumentException("setting '" + key + "' takes a " + type.getSimpleName() + ", not "
                    + (v == null ? "null" : v.getClass().getSimpleName()));
            }
            String why = validator.apply(v);
            if (why != null) {
                throw new IllegalArgumentException("setting '" + key + "' rejects " + v + ": " + why);
            }
        }

        @Override
        public void set(T v) {
            check(v);
            synchronized (this) { // listeners see the values in the order they were set
                value = v;
                for (Consumer<? super T> l : listeners) {
                    l.accept(v);
                }
            }
        }

        String setText(String text) {
            T v = parse(type, text);
            set(v);
            return format(v);
        }

        @Override
        public Subscription onChange(Consumer<? super T> listener) {
            Objects.requireNonNull(listener, "listener");
            listeners.add(listener);
            return () -> listeners.remove(listener);
        }
    }
}
