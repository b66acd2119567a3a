/**
 * The test kit: {@link io.jcircuit.test.LocalCircuit}, a JUnit 5 extension that runs a whole local
 * circuit (an embedded ZooKeeper and host daemons on loopback) for the tests of a class or of one
 * test, and hands the tests client runtimes connected to it. It sits on top of the stack, beside the
 * host layer, and is meant for the test scope of programs built on JCircuit.
 */
package io.jcircuit.test;
