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
 * The two interceptors begin something where a call starts and finish it in that call's
 * {@code completed}, which for an asynchronous call runs on another thread; {@code CallsInFlight}
 * pairs the two by the call's id. Nothing here holds
 * global state: register an instance per runtime (or share one), and close what {@code serve}
 * returns.
 */
package io.jcircuit.observe;
