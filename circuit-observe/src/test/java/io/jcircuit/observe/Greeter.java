package io.jcircuit.observe;

/** What the tests call across runtimes. */
public interface Greeter {

    String greet(String name);

    /** Throws {@link IllegalStateException} with {@code message}. */
    void fail(String message);

    /** Takes at least {@code millis} to return. */
    void slow(long millis);

    /** Greets through another greeter, one more hop away. */
    String relay(String name);
}
