package io.jcircuit.runtime.ops;

import io.jcircuit.Chan;

import java.util.List;
import java.util.Map;

/**
 * The ops service every runtime exports under {@value #SERVICE}: what the {@code circuit} tools and
 * the web console ask a live worker (the Go Circuit called it {@code acid}). Dial it like any service:
 * {@code circuit.worker(address).dial(Ops.SERVICE, Ops.class)}; over a secured circuit only holders of
 * the cluster key reach it.
 *
 * <p>Everything here is read-only except {@link #set}, {@link #drain} and {@link #exit}. The long
 * operations ({@link #profile}, {@link #heapDump}) need a call deadline longer than they run.
 */
public interface Ops {

    /** The service name every runtime listens under. */
    String SERVICE = "circuit.ops";

    /** Returns {@code nonce}: the cheapest proof that the worker answers. */
    long ping(long nonce);

    /** Who the worker is and what it runs. */
    OpsInfo info();

    /**
     * A thread dump that includes virtual threads ({@code HotSpotDiagnosticMXBean.dumpThreads}), as
     * plain text or as the JDK's JSON.
     */
    String threadDump(boolean json);

    /**
     * Profiles for {@code seconds} (1 to 600) and returns a flame graph: with async-profiler where its
     * native library loads, with JFR otherwise. One profile runs at a time per JVM.
     *
     * @param kind {@code cpu}, {@code alloc}, {@code lock} or {@code wall} (async-profiler only)
     */
    FlameGraph profile(String kind, int seconds);

    /** The heap histogram: the {@code top} classes by bytes, biggest first. */
    List<HistogramRow> heapHistogram(int top);

    /**
     * Writes a heap dump to a temporary file, then streams it into {@code sink} in chunks of at most 256 KiB
     * on a background thread, closes the sink and deletes the file. The caller never holds the whole dump in
     * memory. If the sink fails (its owner died), the stream stops and the file is deleted.
     *
     * @return the size of the dump in bytes, known before the first chunk is sent
     */
    long heapDump(boolean liveOnly, Chan<byte[]> sink);

    /** Call counters per peer, direction and method, with latency percentiles; JVM gauges. */
    MetricsSnapshot metrics();

    /** Up to {@code lines} recent log lines, oldest first. */
    List<String> logTail(int lines);

    /**
     * Sends the last {@code backlog} lines, then every new line, into {@code sink}, until the follower
     * goes away or the runtime closes. The follower goes away when it closes {@code sink} (seen at the
     * next line, or within {@code OpsService.FOLLOWER_CHECK} while no line comes), when its runtime ends
     * its session with this one, or when a send fails. Then nothing of the follow is left here, and
     * the follower's channel is released.
     */
    void logFollow(Chan<String> sink, int backlog);

    /** Every setting and explicitly set log level, as text by key. */
    Map<String, String> settings();

    /** One setting or log level ({@code log.LOGGER}) as text. */
    String get(String key);

    /** Changes one setting or log level; returns the value now in effect. */
    String set(String key, String value);

    /**
     * Takes the worker out of service: withdraws its anchors (except {@code /worker} and its host's),
     * stops its application services (not this one), then waits up to {@code timeoutMillis} for the calls
     * it is serving to end.
     */
    DrainReport drain(long timeoutMillis);

    /**
     * Hot swap, first step, asked by the replacement: new calls on {@code service} wait, and once the
     * ones running have ended (within {@code drainMillis}) this returns the service's
     * {@link io.jcircuit.Swappable#snapshot} (null when it keeps none). If calls still run, the service
     * reopens and this throws.
     */
    Object swapFreeze(String service, long drainMillis);

    /**
     * Hot swap, last step: every call waiting on {@code service}, and every later call through any
     * reference to it, goes to {@code replacement}; the name is no longer served here.
     */
    void swapForward(String service, Object replacement);

    /**
     * The hot swap of {@code service} rolled back: it serves here again, also after {@link #swapForward}
     * (the replacement died before the swap was over), on the state it had when it was frozen.
     */
    void swapAbort(String service);

    /**
     * Hot swap, asked by the runtime that runs it ({@code circuit swap}) before the replacement starts:
     * {@code driver} is a reference to an object of that runtime. Should its session with this worker end
     * (the command killed) before it retired this worker, the worker finishes the swap itself once no
     * service of its is frozen any more (the replacement forwarded it or rolled it back, at the latest when
     * the freeze lets go by itself): when every service of its was forwarded, it drains, lingers and
     * retires as the swap would have; when none was, it serves on; otherwise it logs what is left and serves
     * on. The session ending after {@link #retire} changes nothing.
     */
    void swapDrivenBy(Object driver);

    /**
     * Hot swap, after the drain: the process exits (status 0, as {@link #exit}) once no other runtime
     * holds a reference to any of its objects other than its services, whose callers follow the swap, and
     * once the forwarding records of its swaps are in the durable store. An object it stored in the durable
     * store counts while another runtime holds it, and not for being stored: a reference that is only in
     * the store does not keep the worker. A record that ZooKeeper was away for is waited for at most
     * {@code OpsService.RECORDS_WAIT_LIMIT} (10 minutes); past it, the worker exits without it. That holds
     * for a daemonized worker too. Returns how many such objects are held now; with none, and every
     * record written, it exits within a second. While it waits, it logs (INFO, {@code retiring: looked: …})
     * how many are held and how many records are unwritten, a line each time one of them changes.
     */
    int retire();

    /**
     * Closes the runtime and exits the process with {@code status} ({@link System#exit}, so shutdown hooks
     * run), once this call has answered. Every runtime in the process ends with it.
     *
     * @throws IllegalArgumentException when {@code status} is not 0 to 255 (the process's exit status
     *         keeps only the low 8 bits); nothing exits then
     */
    void exit(int status);
}
