package io.jcircuit.runtime.ops;
public record HistogramRow(int rank, long instances, long bytes, String className) { }
