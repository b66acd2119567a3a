package io.jcircuit;

import java.util.function.Consumer;

/**
 * A typed setting of one runtime that operators read and change while it runs
 * ({@code circuit get} and {@code circuit set}). Made by {@link Settings#define}.
 *
 * @param <T> {@code String}, {@code Boolean}, {@code Integer}, {@code Long}, {@code Double},
 *            {@code java.time.Duration} or an enum
 */
public interface Setting<T> {

    /** The key, as operators type it. */
    String key();

    /** The type of the value. */
    Class<T> type();

    /** The current value. A plain volatile read: cheap enough for hot paths. */
    T get();

    /**
     * Sets the value: checks it against the validator, stores it, then tells the listeners.
     *
     * @throws IllegalArgumentException when the validator rejects it; the value does not change
     */
    void set(T value);

    /** Calls {@code listener} with each new value, on the thread that set it, until closed. */
    Subscription onChange(Consumer<? super T> listener);
}
