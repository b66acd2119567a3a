package io.jcircuit.cli;

import io.jcircuit.Entry;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.runtime.host.HostService;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The host daemons filed in the namespace, as {@code circuit hosts} lists them and {@code circuit stop}
 * finds them: each host's own entry is {@code /host/<name>/<worker id>} with {@code role=host}; the
 * workers it started sit beside it with {@code role=worker}, and are left out here.
 */
final class Hosts {

    static final String DIR = io.jcircuit.runtime.host.HostService.DIR;

    private Hosts() {
    }

    /**
     * One running host daemon.
     *
     * @param name  the host's name, the directory under {@code /host}
     * @param entry the host runtime's own entry
     */
    record Host(String name, Entry entry) {

        /** The directory the host and its workers are filed in. */
        String dir() {
            return DIR + "/" + name;
        }

        /** How many workers the host last reported, or null when it did not say. */
        Integer workers() {
            try {
                return Integer.valueOf(entry.metadata().getOrDefault("workers", ""));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /**
         * The machine's load average the host last reported, or null when unknown. The host formats it
         * in its own locale, so a decimal comma is accepted; a negative value means the JVM has none.
         */
        Double load() {
            try {
                double v = Double.parseDouble(entry.metadata().getOrDefault("load", "").replace(',', '.'));
                return v < 0 || Double.isNaN(v) ? null : v;
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /**
         * When the host last reported its figures, by its own clock, or null when it did not say. A
         * running host reports at least every 10 s; a frozen one, or one cut off from ZooKeeper while
         * its entry lasts, shows its last figures for as long as that lasts.
         */
        java.time.Instant reported() {
            try {
                return java.time.Instant.ofEpochMilli(Long.parseLong(entry.metadata().getOrDefault(HostService.REPORTED_KEY, "")));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        /** The machine's free memory in MiB the host last reported, or null when it did not say. */
        Long freeMemoryMb() {
            try {
                return Long.valueOf(entry.metadata().getOrDefault("freeMemoryMb", ""));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** The running hosts, sorted by name. */
    static List<Host> list(Namespace ns) {
        List<Host> hosts = new ArrayList<>();
        for (Entry e : ns.listAnchors(DIR, true).entries()) {
            String name = HostService.daemonOf(e);
            if (name != null && HostService.ROLE_HOST.equals(e.metadata().get(HostService.ROLE_KEY))) {
                hosts.add(new Host(name, e));
            }
        }
        hosts.sort(Comparator.comparing(Host::name));
        return hosts;
    }

    /**
     * The host daemon each runtime filed under {@code /host/NAME} runs under, by its id: its workers, and
     * the daemon's own runtime. A runtime no host started is not in it.
     */
    static java.util.Map<io.jcircuit.WorkerId, String> byWorker(Namespace ns) {
        return HostService.daemonsOf(ns.listAnchors(DIR, true).entries());
    }

    /**
     * Asks host {@code h}'s service {@code question} from {@code client}: the dial and the call each
     * within 10 s, so that a host that does not answer holds no command up for long.
     */
    static <T> T ask(io.jcircuit.Circuit client, Host h, java.util.function.Function<HostService, T> question) {
        java.time.Duration quick = java.time.Duration.ofSeconds(10);
        HostService hs = io.jcircuit.Deadline.within(quick,
            () -> client.worker(h.entry().address()).dial(HostService.SERVICE, HostService.class));
        return io.jcircuit.Deadline.within(quick, () -> question.apply(hs));
    }

    /**
     * When the host that started {@code worker} is not among the {@code running} hosts, says so for an
     * error message: a worker outlives its stopped or killed host, still filed under
     * {@code /host/<name>}, and starting that host again takes it back. Empty when the worker is filed
     * under no host (a runtime that no host started) or under a running one.
     */
    static Optional<String> notRunningHostOf(Namespace ns, io.jcircuit.WorkerId worker, List<Host> running) {
        return ns.listAnchors(DIR, true).entries().stream()
            .filter(e -> e.worker().equals(worker) && HostService.ROLE_WORKER.equals(e.metadata().get(HostService.ROLE_KEY)))
            .map(e -> e.dir().substring(DIR.length() + 1)).findFirst()
            .filter(host -> running.stream().noneMatch(h -> h.name().equals(host)))
            .map(host -> "host " + host + ", which started it (it is filed under " + DIR + "/" + host + "), is not running;"
                + " starting " + host + " again (the same name and state directory) takes the worker back");
    }

    /** The running host named {@code name}, if any. */
    static Optional<Host> find(Namespace ns, String name) {
        return list(ns).stream().filter(h -> h.name().equals(name)).findFirst();
    }

    /** The names of {@code hosts} for an error message: {@code "a, b"}, or a note that there are none. */
    static String names(List<Host> hosts) {
        return hosts.isEmpty() ? "none (start one with 'circuit start')"
            : String.join(", ", hosts.stream().map(Host::name).toList());
    }
}
