package io.jcircuit.runtime.ops;
public final class Diagnostics { static String threadDump(boolean json) { throw new UnsupportedOperationException(); }
 static java.util.List<HistogramRow> heapHistogramRows(int n) { throw new UnsupportedOperationException(); }
 static java.nio.file.Path heapDump(java.nio.file.Path p, boolean live) { throw new UnsupportedOperationException(); } }
