/**
 * Build support: fails the tests that leak Netty buffers. Not part of JCircuit's runtime; the modules whose tests
 * run Netty in the test JVM take it as a test dependency.
 */
package io.jcircuit.leakguard;
