package io.jcircuit.examples.hello;

import io.jcircuit.Circuit;
import io.jcircuit.Worker;
import io.jcircuit.runtime.CircuitRuntime;

/** The README's example, kept compiling and tested: two runtimes, a service, a reference and a go. */
public final class Hello {

    private Hello() {
    }

    public static String run() {
        try (CircuitRuntime alice = CircuitRuntime.start();
             CircuitRuntime bob = CircuitRuntime.start()) {
            // Bob publishes a service; any interface will do.
            bob.listen("greeter", Greeter.class, name -> "hello " + name + ", from " + Circuit.current().id());

            // Alice dials it and gets a typed reference: calls on it run on Bob.
            Greeter greeter = alice.dial(bob.address(), "greeter", Greeter.class);
            String greeting = greeter.greet("alice");

            // Alice runs a function on Bob; what it captures travels with it.
            Worker w = alice.worker(bob.address());
            int answer = 6;
            int result = w.go(() -> answer * 7);

            return greeting + " / " + result;
        }
    }
}
