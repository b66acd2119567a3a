package io.jcircuit.examples.hello;

import io.jcircuit.Circuit;
import io.jcircuit.SpawnOptions;
import io.jcircuit.Spawned;

import java.io.Serializable;
import java.util.List;

/**
 * Spawns a worker on a host of the circuit, prints from it, gets back a value and a reference, and
 * leaves it running, daemonized, under {@code /hello}. Run it with
 * {@code bin/circuit run --local examples/target/examples-0.1.0-SNAPSHOT.jar io.jcircuit.examples.hello.HelloSpawn}
 * ({@code --local}: a circuit of its own) or against a running circuit without {@code --local}.
 */
public final class HelloSpawn {

    /** What the spawned function returns: a value (its pid) and a reference (a greeter living there). */
    public record Hello(long pid, Greeter greeter) implements Serializable {
    }

    private HelloSpawn() {
    }

    public static void main(String[] args) {
        Circuit circuit = Circuit.current();
        Spawned<Hello> s = circuit.spawn(Circuit.ANY_HOST, List.of("/hello"), () -> {
            System.out.println("hello from worker " + Circuit.current().id()); // goes to the worker's stdout file
            Circuit here = Circuit.current();
            return new Hello(ProcessHandle.current().pid(), here.ref(Greeter.class, name -> "hello " + name + ", from " + here.id()));
        }, SpawnOptions.defaults().daemonized());

        System.out.println("spawned worker " + s.worker().id() + " (pid " + s.result().pid() + ")");
        System.out.println(s.result().greeter().greet(args.length > 0 ? args[0] : "you"));
        System.out.println("it stays under /hello, daemonized, while the circuit runs (with run --local: until this program ends)");
    }
}
