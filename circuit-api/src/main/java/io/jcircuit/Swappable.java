package io.jcircuit;

/**
 * A service that hands its state to its replacement in a hot swap ({@code circuit swap}), and checks
 * that the replacement is fit to serve. Without it, a replacement starts from its own initial state.
 *
 * <p>The swap calls {@link #snapshot} on the old instance once it is serving no call and new calls
 * wait; the value travels to the replacement, whose {@link #restore} runs before it serves any call.
 * Between versions the value is copied as call arguments are: records and classes may have gained or
 * lost fields (the codec's compatible mode), so keep it a plain value.
 */
public interface Swappable {

    /** The state to hand over; called with no call running on this object. */
    Object snapshot();

    /** Takes over {@code state}, which the old version's {@link #snapshot} returned. */
    void restore(Object state);

    /**
     * The replacement's health check: called after {@link #restore}, before it takes any call. Throw to
     * refuse the swap; it then rolls back, and the old version serves on as if nothing happened.
     */
    default void checkHealth() {
    }
}
