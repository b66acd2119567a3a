package io.jcircuit.cli.console;

import io.jcircuit.Circuit;
import io.jcircuit.Deadline;
import io.jcircuit.Entry;
import io.jcircuit.WorkerId;
import io.jcircuit.runtime.ops.FlameGraph;
import io.jcircuit.runtime.ops.Ops;
import io.jcircuit.runtime.ops.OpsInfo;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * What the console asks one worker on an operator's request. The worker is looked up in
 * {@code /worker} at each request, so one spawned a moment ago is found at once; that read is the
 * console's, bounded, and says 503 when ZooKeeper is away. Every call runs
 * within a deadline; a profile's is its length plus {@value #PROFILE_SLACK_SECONDS} s.
 */
final class WorkerEndpoints {

    static final int MAX_PROFILE_SECONDS = 60;
    static final int DEFAULT_PROFILE_SECONDS = 5;
    static final List<String> PROFILE_KINDS = List.of("cpu", "alloc", "lock");
    private static final int PROFILE_SLACK_SECONDS = 30;
    private static final Duration QUICK = Duration.ofSeconds(10);
    private static final int LAST_FLAMES_KEPT = 8;

    /** The entries under {@code /worker}, read at each call; fails with a 503 {@link HttpFailure} when they cannot be. */
    private final Supplier<List<Entry>> liveWorkers;
    private final Circuit client;
    /** The last flame graph of each worker, for the page's frame and its "open in a new tab": the latest few. */
    private final java.util.Map<String, byte[]> lastFlames = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, byte[]> eldest) {
            return size() > LAST_FLAMES_KEPT;
        }
    };

    WorkerEndpoints(Supplier<List<Entry>> liveWorkers, Circuit client) {
        this.liveWorkers = liveWorkers;
        this.client = client;
    }

    OpsInfo info(String id) {
        Ops ops = ops(id);
        return Deadline.within(QUICK, ops::info);
    }

    String stack(String id) {
        Ops ops = ops(id);
        return Deadline.within(QUICK, () -> ops.threadDump(false));
    }

    /** The flame graph's HTML; {@code kind} and {@code seconds} as given in the query, null when absent. */
    byte[] flame(String id, String kind, String seconds) {
        String k = kind == null || kind.isBlank() ? "cpu" : kind.trim().toLowerCase(Locale.ROOT);
        if (!PROFILE_KINDS.contains(k)) {
            throw new HttpFailure(400, "kind='" + kind + "' is not one of " + String.join(", ", PROFILE_KINDS));
        }
        int s = seconds(seconds);
        Ops ops = ops(id);
        FlameGraph g = Deadline.within(Duration.ofSeconds(s + PROFILE_SLACK_SECONDS), () -> ops.profile(k, s));
        byte[] html = g.html();
        synchronized (lastFlames) {
            lastFlames.put(WorkerId.parse(id).toString(), html);
        }
        return html;
    }

    /** The last flame graph {@link #flame} took of worker {@code id}; 404 when there is none. */
    byte[] lastFlame(String id) {
        String key;
        try {
            key = WorkerId.parse(id).toString();
        } catch (IllegalArgumentException e) {
            throw new HttpFailure(400, e.getMessage());
        }
        synchronized (lastFlames) {
            byte[] html = lastFlames.get(key);
            if (html == null) {
                throw new HttpFailure(404, "no flame graph of " + id + " has been taken here");
            }
            return html;
        }
    }

    private static int seconds(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_PROFILE_SECONDS;
        }
        try {
            int s = Integer.parseInt(text.trim());
            if (s >= 1 && s <= MAX_PROFILE_SECONDS) {
                return s;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new HttpFailure(400, "seconds='" + text + "' is not a whole number from 1 to " + MAX_PROFILE_SECONDS);
    }

    /** The ops service of the live worker {@code id}; 400 when it is no worker id, 404 when it is not live. */
    private Ops ops(String id) {
        WorkerId wanted;
        try {
            wanted = WorkerId.parse(id);
        } catch (IllegalArgumentException e) {
            throw new HttpFailure(400, e.getMessage());
        }
        Entry entry = liveWorkers.get().stream()
            .filter(e -> e.worker().equals(wanted)).findFirst()
            .orElseThrow(() -> new HttpFailure(404, "no live worker " + id + " under /worker"));
        return Deadline.within(QUICK, () -> client.worker(entry.address()).dial(Ops.SERVICE, Ops.class));
    }
}
