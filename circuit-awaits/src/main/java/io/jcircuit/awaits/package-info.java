/**
 * Build support: Awaitility's defaults for JCircuit's tests. Not part of JCircuit's runtime; the modules whose tests
 * wait with Awaitility take it as a test dependency.
 */
package io.jcircuit.awaits;
