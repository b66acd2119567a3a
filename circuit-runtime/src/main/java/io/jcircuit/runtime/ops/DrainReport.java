package io.jcircuit.runtime.ops;

import java.util.List;

/**
 * {@link Ops#drain}: the anchors and services withdrawn, and the calls still running when it returned
 * (0 when the worker drained in time).
 */
public record DrainReport(List<String> anchorsWithdrawn, List<String> servicesStopped, int callsStillRunning,
                          long waitedMillis) {
}
