/**
 * Observability for JCircuit runtimes, built only on the public {@link io.jcircuit.CallInterceptor}
 * API and, for Prometheus, the runtime's {@link io.jcircuit.runtime.ops.CallMetrics}:
 *
 * <pre>
 *   JfrCallEvents            OpenTelemetryPropagation        PrometheusMetrics (+ JvmCollector)
 *        |  CallInterceptor          |  CallInterceptor             |  reads at scrape time
 *        v                           v                              v
 *   io.jcircuit (circuit-api)                              io.jcircuit.runtime.ops.CallMetrics
 * </pre>
 *
 * The two interceptors begin something where a call starts on a thread and finish it in
 * {@code completed} on that same thread; {@code ThreadCalls} pairs the two. Nothing here holds
 * global state: register an instance per runtime (or share one), and close what {@code serve}
 * returns.
 */
package io.jcircuit.observe;
