/**
 * The JCircuit programming model: {@link io.jcircuit.Circuit}, {@link io.jcircuit.Worker},
 * references, {@link io.jcircuit.Fn} and the exceptions a call can end with.
 *
 * <p>This module depends on nothing. The layers below it (runtime, codec, link; later host, anchor
 * and cli) implement it, and none of their types appear here.
 */
package io.jcircuit;
