package io.jcircuit;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The live settings of one runtime, read and changed with {@code circuit get} and {@code circuit set}
 * without a restart.
 *
 * <p>Two kinds of key exist: the ones the application {@link #define}s, and {@code log.LOGGER} (for
 * example {@code log.root} or {@code log.io.jcircuit.link}), which reads and sets a logger's level
 * (TRACE, DEBUG, INFO, WARN, ERROR, OFF) when the process logs through logback.
 *
 * <pre>{@code
 * Setting<Integer> batch = circuit.settings().define("ingest.batch", Integer.class, 512,
 *     v -> v > 0 && v <= 65_536 ? null : "must be between 1 and 65536");
 * batch.onChange(v -> log.info("batch size now {}", v));
 * }</pre>
 */
public interface Settings {

    /**
     * Defines a setting.
     *
     * @param validator returns null for an acceptable value, or why it is not acceptable
     * @throws IllegalArgumentException when the key is taken, malformed, starts with {@code log.}, or the
     *                                  initial value fails the validator
     */
    <T> Setting<T> define(String key, Class<T> type, T initial, Function<? super T, String> validator);

    /** {@link #define} with no validator beyond the type. */
    default <T> Setting<T> define(String key, Class<T> type, T initial) {
        return define(key, type, initial, v -> null);
    }

    /** The setting under {@code key}, if defined. */
    Optional<Setting<?>> find(String key);

    /** Every value as text: the defined settings, then the log levels set explicitly, by key. */
    Map<String, String> values();

    /**
     * Parses {@code text} into the type of the setting (or the log level) under {@code key} and sets it.
     *
     * @return the value as now stored, as text
     * @throws IllegalArgumentException for an unknown key or a value that does not parse or validate;
     *                                  the message says which and why
     */
    String set(String key, String text);

    /**
     * The value under {@code key} as text.
     *
     * @throws IllegalArgumentException for an unknown key
     */
    String get(String key);
}
