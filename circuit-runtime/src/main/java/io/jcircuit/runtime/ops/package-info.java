/**
 * The runtime's operations side. This part holds the JVM-local diagnostics that an ops service
 * serves; each blocks its caller and touches only this JVM.
 *
 * <pre>
 *   Profiler ──▶ AsyncProfilerEngine ──▶ one.profiler.AsyncProfiler (native, one per JVM)
 *      │                                  writes its own HTML
 *      └──────▶ JfrEngine ──▶ jdk.jfr.Recording ──▶ CollapsedStacks ──▶ FlameGraphHtml
 *
 *   Diagnostics ──▶ HotSpotDiagnosticMXBean (thread dump, heap dump)
 *               └─▶ DiagnosticCommand MBean (class histogram ──▶ HistogramRow)
 * </pre>
 *
 * <p>Several runtimes may share a JVM, so these classes keep no static mutable state. The one
 * JVM-wide resource, async-profiler, guards itself: a second profile while one runs is refused
 * (see {@link io.jcircuit.runtime.ops.Profiler}).
 */
package io.jcircuit.runtime.ops;
