package io.jcircuit.observe;

/** Greets, fails on demand, and relays to {@code next} when it has one. */
class GreeterImpl implements Greeter {

    private final Greeter next;

    GreeterImpl(Greeter next) {
        this.next = next;
    }

    @Override
    public String greet(String name) {
        return "hello " + name;
    }

    @Override
    public void fail(String message) {
        throw new IllegalStateException(message);
    }

    @Override
    public void slow(long millis) {
        try {
            Thread.sleep(millis); // the work being measured, not a wait for a condition
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String relay(String name) {
        if (next == null) {
            throw new IllegalStateException("nowhere to relay " + name + " to");
        }
        return next.relay(name);
    }
}
