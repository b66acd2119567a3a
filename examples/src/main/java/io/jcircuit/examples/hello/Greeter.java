package io.jcircuit.examples.hello;

/** A remote interface is any Java interface: no marker, no checked exceptions. */
public interface Greeter {
    String greet(String name);
}
