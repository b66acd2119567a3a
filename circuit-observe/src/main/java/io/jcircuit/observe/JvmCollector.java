package io.jcircuit.observe;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;

/**
 * The JVM basics beside the call metrics, named as the Prometheus JVM instrumentation names them:
 * heap and non-heap memory, threads, loaded classes, GC counts and time, process CPU time and start
 * time. Read from the platform MXBeans at each scrape.
 */
final class JvmCollector implements MultiCollector {

    @Override
    public MetricSnapshots collect() {
        var mem = ManagementFactory.getMemoryMXBean();
        MemoryUsage heap = mem.getHeapMemoryUsage();
        MemoryUsage nonHeap = mem.getNonHeapMemoryUsage();
        var threads = ManagementFactory.getThreadMXBean();
        var runtime = ManagementFactory.getRuntimeMXBean();
        return MetricSnapshots.of(
            memory("jvm_memory_used_bytes", "Memory in use", heap.getUsed(), nonHeap.getUsed()),
            memory("jvm_memory_committed_bytes", "Memory committed by the JVM", heap.getCommitted(),
                nonHeap.getCommitted()),
            memory("jvm_memory_max_bytes", "Most memory the JVM may use, -1 when unbounded", heap.getMax(),
                nonHeap.getMax()),
            gauge("jvm_threads_current", "Live platform threads", threads.getThreadCount()),
            gauge("jvm_threads_peak", "Most live platform threads so far", threads.getPeakThreadCount()),
            gauge("jvm_classes_currently_loaded", "Classes loaded now",
                ManagementFactory.getClassLoadingMXBean().getLoadedClassCount()),
            gc(ManagementFactory.getGarbageCollectorMXBeans()),
            gcSeconds(ManagementFactory.getGarbageCollectorMXBeans()),
            counter("process_cpu_seconds", "CPU time of this process", cpuNanos() / 1e9),
            gauge("process_start_time_seconds", "When this process started, seconds since the epoch",
                runtime.getStartTime() / 1e3));
    }

    private static GaugeSnapshot memory(String name, String help, long heap, long nonHeap) {
        return GaugeSnapshot.builder().name(name).help(help)
            .dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("area", "heap")).value(heap).build())
            .dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("area", "nonheap")).value(nonHeap).build())
            .build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
            .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    private static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder().name(name).help(help)
            .dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build();
    }

    private static CounterSnapshot gc(List<GarbageCollectorMXBean> collectors) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("jvm_gc_collections")
            .help("Garbage collections, by collector");
        for (GarbageCollectorMXBean gc : collectors) {
            b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("gc", gc.getName()))
                .value(Math.max(0, gc.getCollectionCount())).build());
        }
        return b.build();
    }

    private static CounterSnapshot gcSeconds(List<GarbageCollectorMXBean> collectors) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("jvm_gc_collection_seconds")
            .help("Time spent in garbage collections, by collector");
        for (GarbageCollectorMXBean gc : collectors) {
            b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("gc", gc.getName()))
                .value(Math.max(0, gc.getCollectionTime()) / 1e3).build());
        }
        return b.build();
    }

    private static long cpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }
}
