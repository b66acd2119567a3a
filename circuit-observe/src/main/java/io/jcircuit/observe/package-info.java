/** Observability built on the public call interceptors. */
package io.jcircuit.observe;
